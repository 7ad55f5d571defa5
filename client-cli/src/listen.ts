import type { Ctx } from "./context.js";
import { usageError } from "./errors.js";

export async function listen(_ctx: Ctx): Promise<void> {
  throw usageError("listen is not built yet");
}
