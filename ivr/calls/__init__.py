"""A live call: the session that joins the dialog, the voice engines and the stream."""
