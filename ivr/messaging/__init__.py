"""Written contact with the debtor: SMS out and in (Twilio Messages), reminders,
and the payment details a verified debtor asked for (Pix code, boleto line, link).

Nothing here decides whether a message may be sent: the SMS rules sit beside the
call rules in the scheduler's rule book.
"""
