// Clients of both booking.v1 services over the gRPC protocol (HTTP/2), with a deadline on every call.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { BookingService } from "./gen/booking/v1/booking_service_pb.js";
import { TrainerDirectoryService } from "./gen/booking/v1/trainer_directory_pb.js";

/** The deadline of a call that names none: long enough for an assignment under load. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface BookingClientOptions {
  /** Where the service listens, e.g. "http://127.0.0.1:50051" (plaintext) or "https://booking:443". */
  baseUrl: string;
  /** The deadline of each call that sets no `timeoutMs` of its own; must be > 0. */
  defaultTimeoutMs?: number;
}

export interface BookingClients {
  booking: Client<typeof BookingService>;
  directory: Client<typeof TrainerDirectoryService>;
  transport: Transport;
}

/**
 * One HTTP/2 connection shared by a client of each service. Every call has a deadline: the
 * call's own `timeoutMs` option, else `defaultTimeoutMs`; the server sees it as grpc-timeout and
 * stops working on the call when it passes.
 */
export function createBookingClients(options: BookingClientOptions): BookingClients {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(defaultTimeoutMs > 0)) {
    throw new RangeError(`defaultTimeoutMs must be > 0, got ${defaultTimeoutMs}`);
  }
  const transport = createGrpcTransport({ baseUrl: options.baseUrl, defaultTimeoutMs });
  return {
    booking: createClient(BookingService, transport),
    directory: createClient(TrainerDirectoryService, transport),
    transport,
  };
}
