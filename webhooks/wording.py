"""What callers and advisers hear, in plain British English. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time

from helpline.phones import Costly
from helpline.settings import AnswerMachine, Office

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


LAST_MINUTE = time(23, 59)  # a range ending then runs to the end of the day


def spoken_time(at: time, *, end: bool = False) -> str:
    """09:00 -> 9am; 16:30 -> 4:30pm; 12:00 -> midday; 00:00, and 23:59 as an end -> midnight."""
    if at == time(12, 0):
        return "midday"
    if at == time(0, 0) or (end and at >= LAST_MINUTE):
        return "midnight"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def _listed(items: Sequence[str]) -> str:
    """a; a and b; a, b and c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _merged(ranges: Sequence[tuple[time, time]]) -> list[tuple[time, time]]:
    """Ranges that touch or overlap joined into one."""
    merged: list[tuple[time, time]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


ALL_DAY = "all day"


def _day_hours(ranges: Sequence[tuple[time, time]]) -> str:
    """One day's hours: 'from 9am to 5pm', 'from 9am to 12:30pm and from 1:30pm to 5pm', or
    'all day' when they cover the whole day."""
    merged = _merged(ranges)
    if len(merged) == 1 and merged[0][0] == time(0, 0) and merged[0][1] >= LAST_MINUTE:
        return ALL_DAY
    return " and ".join(f"from {spoken_time(a)} to {spoken_time(b, end=True)}" for a, b in merged)


def _days(days: Sequence[int]) -> str:
    """Weekdays (Monday = 0) as said: 'every day', 'Monday to Friday', 'Saturday and Sunday',
    'Monday, Wednesday and Friday'."""
    if list(days) == list(range(7)):
        return "every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names: list[str] = []
    for run in runs:
        if len(run) >= 3:
            names.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            names.extend(DAY_NAMES[day] for day in run)
    return _listed(names)


def hours_sentence(office: Office, bank_holidays: bool = True) -> str:
    """The office's weekly hours as one sentence, grouping the days with the same hours."""
    hours: Mapping[int, Sequence[tuple[time, time]]] = office.hours
    groups: dict[str, list[int]] = {}  # in the order of each group's first day
    for day in range(7):
        if hours.get(day):
            groups.setdefault(_day_hours(hours[day]), []).append(day)
    if not groups:
        return f"Our {office.name} helpline has no regular opening hours."
    closed = ", except on bank holidays" if bank_holidays else ""
    if list(groups) == [ALL_DAY]:
        return (
            f"Our {office.name} helpline is open 24 hours a day, {_days(groups[ALL_DAY])}{closed}."
        )
    parts = [f"{_days(days)} {text}" for text, days in groups.items()]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", and " + parts[-1]
    return f"Our {office.name} helpline is open {joined}{closed}."


def greeting(service_name: str, office: Office) -> str:
    """The first words a caller hears."""
    return f"Thank you for calling the {office.name} helpline of {service_name}."


HOLD = "Please hold while we put you through to an adviser."
CALLBACK_OFFER = (
    "Please hold while we put you through to an adviser. If you would rather we called you "
    "back, press 2 now."
)


def callback_promised(days: int | None) -> str:
    """What a caller who asked to be called back hears (`days` None: the callback has no
    deadline, since its office has no opening in sight, so no time is promised)."""
    if days is None:
        when = "as soon as they can"
    else:
        when = f"within {days} {'working day' if days == 1 else 'working days'}"
    return (
        f"Thank you. An adviser will call you back {when} on the number you are calling from. "
        "The call will come from this helpline's number. Goodbye."
    )


def trying(office: Office) -> str:
    """What a caller hears when their call moves on to another office's advisers."""
    return f"Thank you for waiting. We are now trying our advisers in {office.name}."


def passed_to_partner(rung: Office, partner: Office, *, rung_open: bool) -> str:
    """What a caller hears when their call goes to another office's advisers from the start."""
    why = (
        f"None of our {rung.name} advisers is free just now"
        if rung_open
        else f"Our {rung.name} helpline is closed at the moment"
    )
    return f"{why}, so we are passing your call to our advisers in {partner.name}."


def screen_prompt(office: Office) -> str:
    """What an adviser hears on answering, before the caller is connected."""
    return f"{office.name} helpline call. Press 1 to accept."


def answer_machine_intro(office: Office, was_open: bool) -> str:
    """Why the caller has reached the answer machine."""
    if was_open:
        return "Sorry, none of our advisers can take your call just now."
    return f"Sorry, our {office.name} helpline is closed at the moment."


def closed_until_further_notice(office: Office) -> str:
    """Why the caller has reached the answer machine, instead of the hours, when the office
    has hours but no opening in sight."""
    return f"Sorry, our {office.name} helpline is closed until further notice."


def promise(days: int | None, *, office_open: bool = False) -> str:
    """The call-back promise. `days` None: the callback will have no deadline, since the
    office has no opening in sight, so no time is promised; `office_open` says whether the
    office is open now all the same (it closes later for an unknown time)."""
    if days is None:
        when = "as soon as they can" if office_open else "as soon as the office reopens"
    else:
        when = f"within {days} {'working day' if days == 1 else 'working days'}"
    return (
        "Please leave a message after the tone with your name and what you would like help "
        f"with. An adviser will call you back {when}. The call will come from this helpline's "
        "number."
    )


def digit_by_digit(number: str) -> str:
    """A number as written (0808 808 3555) read one digit at a time, pausing between groups."""
    return ", ".join(" ".join(group) for group in number.split())


def signposting(machine: AnswerMachine) -> list[str]:
    """Other services to mention, one sentence each."""
    return [
        f"If you need help sooner, you can call {sign.name.rstrip(', ')}: "
        f"{digit_by_digit(sign.number)}."
        for sign in machine.signposting
    ]


FINISH = "When you have finished, hang up or press the hash key."
THANKS = "Thank you. Your message has been saved and an adviser will call you back. Goodbye."
NO_MESSAGE = "We did not hear a message. Please call again if you would like a call back. Goodbye."
APOLOGY = "Sorry, something went wrong on our side."
ADVISER_TIMEOUT = "No key was pressed. The call will be offered to someone else. Goodbye."
ALREADY_TAKEN = "This call has already been answered or the caller has hung up. Goodbye."
THANK_YOU_BYE = "Thank you for calling. Goodbye."

ASK_NUMBER = (
    "We cannot see your phone number. Please key in the number we should call you back on, "
    "then press the hash key. If you would rather not give a number, just press the hash key."
)
ASK_AGAIN = "Please key in the number again, then press the hash key."
NOT_A_NUMBER = "Sorry, that does not look like a UK phone number."
_COSTLY = {
    Costly.PREMIUM_RATE: "a premium rate number",
    Costly.SERVICE: "an 0871, 0872 or 0873 number",
    Costly.PERSONAL: "a personal number starting 070",
    Costly.DIRECTORY: "a 118 directory enquiries number",
}


def costly_number(kind: Costly) -> str:
    """Why a keyed-in number that would cost the service more than an ordinary call is refused."""
    return (
        f"Sorry, we cannot call you back on {_COSTLY[kind]}, because it costs more than an "
        "ordinary call. Please give a landline or mobile number."
    )


NO_NUMBER = "We will not have a number to call you back on, so please say it in your message."
NUMBER_KEPT = "Thank you. We will call you back on that number."
READ_AGAIN = "Sorry, we did not get that."
NOT_CONFIRMED = "Sorry, that number was not confirmed."


def read_back(spoken: str) -> str:
    """The keyed number read back, with what to press."""
    return f"You entered {spoken}. Press 1 if that is right, or 2 to enter it again."


def callback_prompt(office: Office | None) -> str:
    """What an adviser hears when the service rings them to make a call back (`office` None:
    the callback's office is no longer configured)."""
    helpline = f"the {office.name} helpline" if office is not None else "the helpline"
    return (
        f"Call back for {helpline}. Press 1 to be connected to the parent "
        "now. The parent will see the helpline's number."
    )


CALLBACK_NOT_STARTED = "No key was pressed, so the call back has not been made. Goodbye."
CALLBACK_CONNECTING = "Connecting you now."
CALLBACK_DONE = "The call has ended. Please record how it went. Goodbye."
CALLBACK_RETRY = "The parent did not answer. Another attempt has been scheduled. Goodbye."
CALLBACK_GIVEN_UP = (
    "The parent did not answer, and that was the last attempt. The callback is now closed as "
    "unreachable. Goodbye."
)
CALLBACK_GONE = "This callback is no longer open. Goodbye."
