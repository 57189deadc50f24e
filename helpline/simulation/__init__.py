"""The call simulator: plays calls, and a week of them, through the signed webhooks as Twilio
would, with time passing on the service's own clock."""
