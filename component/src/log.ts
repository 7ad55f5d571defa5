import { destination, type Logger, pino } from "pino";

/** Structured JSON logs on stderr; never given secrets or passwords. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: "warble" } }, destination(2));
}
