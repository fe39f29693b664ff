/**
 * Text from payloads reaches terminals, owner messages, task pages and Markdown reports. C0 and C1
 * control characters (a newline, an escape sequence) could forge a line ("revoke confirm t-…") or
 * repaint a screen, and bidirectional overrides could make one name read as another.
 */
const CONTROL = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069";
const CONTROL_CHAR = new RegExp(`[${CONTROL}]`);
const CONTROL_RUNS = new RegExp(`[${CONTROL}]+`, "g");
const CONTROL_RUNS_BUT_NEWLINE = new RegExp(`[${CONTROL.replace("\\u0000-\\u001f", "\\u0000-\\u0009\\u000b-\\u001f")}]+`, "g");

export const hasControlChars = (text: string): boolean => CONTROL_CHAR.test(text);

/** Free text kept, on one line: each run of control characters becomes a space. */
export const oneLine = (text: string): string => text.replace(CONTROL_RUNS, " ");

/** Free text kept with its line breaks (a message body), every other control character a space. */
export const withLineBreaksOnly = (text: string): string => text.replace(CONTROL_RUNS_BUT_NEWLINE, " ");
