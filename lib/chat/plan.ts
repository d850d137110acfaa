/** What every dialect's request becomes before it goes upstream. */

import type { GlmRequest } from "../core/glm.ts";
import type { ResolvedModel } from "../core/models.ts";

/** A translated request, ready to send upstream. */
export interface ChatPlan {
  glm: GlmRequest;
  stream: boolean;
  model: ResolvedModel;
  /** Stop sequences the gateway matches itself. */
  stopSequences: readonly string[];
}
