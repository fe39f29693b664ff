import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";

export type Fault = (req: Request, res: Response) => boolean;

/**
 * A vendor stand-in on loopback (a SCIM app, Okta, Graph): records every request, can be slowed down
 * and can answer with injected faults ahead of its real routes.
 */
export abstract class StandIn {
  protected server?: Server;
  /** http://127.0.0.1:<port> once started. */
  origin = "";
  /** Method and path of every request, for assertions. */
  readonly requests: Array<{ method: string; path: string }> = [];
  protected readonly faults: Fault[] = [];

  constructor(protected readonly latencyMs = 0) {}

  protected abstract routes(app: express.Express): void;

  get baseUrl(): string {
    return this.origin;
  }

  async start(): Promise<this> {
    const app = express();
    app.use(async (req: Request, res: Response, next: NextFunction) => {
      this.requests.push({ method: req.method, path: req.originalUrl });
      if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
      for (const fault of this.faults) if (fault(req, res)) return;
      next();
    });
    this.routes(app);
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, "127.0.0.1", () => resolve());
    });
    this.origin = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** Adds a fault; it answers instead of the real routes when it returns true. */
  inject(fault: Fault): this {
    this.faults.push(fault);
    return this;
  }

  clearFaults(): this {
    this.faults.length = 0;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
