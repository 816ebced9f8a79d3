"""Community activities: shifts, sign-up, QR sign-in/out, attendance; hours land in the credits ledgers."""
