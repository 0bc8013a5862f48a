// The rich error model of booking.v1: google.rpc.ErrorInfo (a reason) and BadRequest (violations).
import { Code, ConnectError } from "@connectrpc/connect";

import { ErrorReason } from "./gen/booking/v1/error_reason_pb.js";
import { BadRequestSchema, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** The domain of every ErrorInfo the booking service sends. */
export const ERROR_DOMAIN = "booking.v1";

export interface FieldViolation {
  /** The request field's path, e.g. "students[1].id"; empty for the "and N more" entry. */
  field: string;
  description: string;
}

export interface BookingError {
  code: Code;
  /** The message without the "[code]" prefix ConnectError adds. */
  message: string;
  /** ErrorInfo.reason, e.g. "SLOT_OVERLAP"; empty when the error carries no ErrorInfo. */
  reason: string;
  /** The reason as the generated enum, undefined for a reason this client does not know yet. */
  knownReason: ErrorReason | undefined;
  domain: string;
  /** ErrorInfo.metadata, e.g. `rejection_reason` of a refused substitute. */
  metadata: Record<string, string>;
  /** BadRequest field violations of an INVALID_ARGUMENT, in the server's order. */
  fieldViolations: FieldViolation[];
}

/** The booking error a call failed with: code, ErrorInfo and BadRequest decoded. */
export function bookingErrorOf(error: unknown): BookingError {
  const failure = ConnectError.from(error);
  const info = failure.findDetails(ErrorInfoSchema)[0];
  const reason = info?.reason ?? "";
  const known: unknown = ErrorReason[reason as keyof typeof ErrorReason];
  return {
    code: failure.code,
    message: failure.rawMessage,
    reason,
    knownReason: typeof known === "number" ? (known as ErrorReason) : undefined,
    domain: info?.domain ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    fieldViolations: failure
      .findDetails(BadRequestSchema)
      .flatMap((bad) => bad.fieldViolations)
      .map((v) => ({ field: v.field, description: v.description })),
  };
}
