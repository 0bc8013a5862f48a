"""`python -m booking_server` is the same as `booking-service`."""

import sys

from booking_server.cli import main

sys.exit(main())
