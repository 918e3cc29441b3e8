"""How a debtor can pay, as the service relays it (see ivr.messaging.payment_details).

Pix key kinds (the DICT directory's five kinds; a key names the account that
receives the money):

* ``email`` -- an e-mail address, lower case.
* ``phone`` -- a Brazilian number as ``+55`` and its 10 or 11 digits.
* ``cpf`` -- a person's taxpayer number, 11 digits.
* ``cnpj`` -- a company's taxpayer number, 14 digits.
* ``random`` -- a random key (a UUID) the bank created.

What a payment message carries, in the order it is chosen:

* ``pix_code`` -- the Pix "copia e cola" imported with the debt.
* ``pix_generated`` -- a static Pix code made from the creditor's key for the
  exact amount promised.
* ``boleto`` -- the boleto's "linha digitável" imported with the debt.
* ``link`` -- the creditor's payment page imported with the debt.
"""

from __future__ import annotations

import enum


class PixKeyKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CPF = "cpf"
    CNPJ = "cnpj"
    RANDOM = "random"


class PaymentMethod(enum.StrEnum):
    PIX_CODE = "pix_code"
    PIX_GENERATED = "pix_generated"
    BOLETO = "boleto"
    LINK = "link"
