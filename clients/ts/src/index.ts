// @booking/booking-client: the generated booking.v1 messages and services, clients with deadlines,
// and the decoded rich error model.
export { Code, ConnectError } from "@connectrpc/connect";
export { create, toJson, fromJson } from "@bufbuild/protobuf";
export * from "./client.js";
export * from "./errors.js";
export * from "./gen/booking/v1/booking_service_pb.js";
export * from "./gen/booking/v1/common_pb.js";
export * from "./gen/booking/v1/error_reason_pb.js";
export * from "./gen/booking/v1/trainer_directory_pb.js";
export { type BadRequest, type ErrorInfo, BadRequestSchema, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
