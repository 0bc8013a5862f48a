// What a sibling service does with this package, as tests/e2e/test_typescript_client.py runs it:
//   node dist/examples/sibling-calls.js http://127.0.0.1:50051 '<AutoAssignTrainerRequest as proto JSON>'
// It makes three calls, then watches its purchase being cancelled, and prints what it saw as one
// JSON object on stdout.
import {
  AutoAssignTrainerRequestSchema,
  ChangeType,
  Code,
  ErrorReason,
  PurchaseStatus,
  bookingErrorOf,
  createBookingClients,
  fromJson,
  type BookingError,
} from "../src/index.js";

async function failureOf(call: () => Promise<unknown>): Promise<BookingError> {
  try {
    await call();
  } catch (error) {
    return bookingErrorOf(error);
  }
  throw new Error("the call was expected to fail");
}

function describeFailure(failure: BookingError): object {
  return {
    code: Code[failure.code],
    reason: failure.reason,
    knownReason: failure.knownReason === undefined ? null : ErrorReason[failure.knownReason],
    domain: failure.domain,
    fieldViolations: failure.fieldViolations,
  };
}

type Booking = ReturnType<typeof createBookingClients>["booking"];

/** Watch the purchase's zone, cancel the purchase once the stream is live, and return the event
 * that reports it. The first heartbeat proves the stream is open ("from now" starts there). */
async function watchTheCancel(booking: Booking, purchaseId: string, zoneId: string): Promise<object> {
  const seen: string[] = [];
  const stream = booking.watchPurchaseChanges({ zoneId }, { timeoutMs: 60_000 });
  for await (const { change } of stream) {
    seen.push(ChangeType[change!.type]);
    if (change!.type === ChangeType.HEARTBEAT && seen.length === 1) {
      await booking.cancelPurchase({ purchaseId, reason: "student moved away" });
    } else if (change!.purchase?.purchaseId === purchaseId) {
      return {
        types: seen,
        purchaseId: change!.purchase.purchaseId,
        status: PurchaseStatus[change!.purchase.status],
        hasResumeToken: change!.resumeToken.length > 0,
      };
    }
  }
  throw new Error(`the stream ended before the cancel arrived; saw ${seen.join(", ")}`);
}

async function main(baseUrl: string, requestJson: string): Promise<void> {
  const { booking } = createBookingClients({ baseUrl, defaultTimeoutMs: 20_000 });

  const request = fromJson(AutoAssignTrainerRequestSchema, JSON.parse(requestJson));
  const assigned = await booking.autoAssignTrainer(request, { timeoutMs: 30_000 });
  const purchase = assigned.purchase!;

  const invalid = await failureOf(() =>
    booking.autoAssignTrainer({ ...request, bookingId: "not-a-uuid", totalSessions: 0 }),
  );
  const notFound = await failureOf(() =>
    booking.getPurchase({ purchaseId: "00000000-0000-4000-8000-000000000000" }),
  );

  const watched = await watchTheCancel(booking, purchase.purchaseId, purchase.zoneId);

  const report = {
    assignment: {
      purchaseId: purchase.purchaseId,
      status: PurchaseStatus[purchase.status],
      trainerId: purchase.trainerId,
      zoneId: purchase.zoneId,
      sessionDates: assigned.sessions.map((s) => s.sessionDate),
      rankedTrainerIds: assigned.decision?.rankedTrainerIds ?? [],
    },
    invalid: describeFailure(invalid),
    notFound: describeFailure(notFound),
    watched,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

const [baseUrl, requestJson] = process.argv.slice(2);
if (baseUrl === undefined || requestJson === undefined) {
  process.stderr.write("usage: sibling-calls.js BASE_URL AUTO_ASSIGN_REQUEST_JSON\n");
  process.exit(2);
}
main(baseUrl, requestJson).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
