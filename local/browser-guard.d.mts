export function browserRefusal(headers: Record<string, string | string[] | undefined>, ownHost?: string): string | undefined;
