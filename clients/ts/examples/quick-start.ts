// The README's quick start, compiled by `make lint` so that it stays true.
import { bookingErrorOf, createBookingClients } from "../src/index.js";

const { booking } = createBookingClients({ baseUrl: "http://127.0.0.1:50051", defaultTimeoutMs: 5_000 });
try {
  const { purchase } = await booking.getPurchase({ purchaseId: process.argv[2] ?? "" });
  console.log(purchase?.status, purchase?.trainerId);
} catch (error) {
  const failure = bookingErrorOf(error); // ErrorInfo reason and BadRequest violations, decoded
  console.error(failure.reason, failure.fieldViolations);
}
