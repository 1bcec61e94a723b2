"""Social jobs: thin wrappers that take ids and call services.

Invariants: ``refresh_tokens`` is safe to run twice (the service re-checks under a row lock
that each token is still due); when a provider cannot be reached for some accounts, the
others are still refreshed and the job raises so RQ retries it (``RETRY_NETWORK``, set at
enqueue) — accounts already refreshed are then skipped as not due.
"""

from __future__ import annotations


class RefreshIncompleteError(Exception):
    """Some accounts could not be refreshed because their provider was unreachable."""


def refresh_tokens(account_ids: list[int]) -> dict[int, str]:
    from app.social.oauth import ProviderUnavailableError
    from app.social.service import refresh_account_tokens

    outcomes: dict[int, str] = {}
    for account_id in account_ids:
        try:
            outcomes[int(account_id)] = refresh_account_tokens(int(account_id))
        except ProviderUnavailableError:
            outcomes[int(account_id)] = "unavailable"
    unavailable = [account_id for account_id, outcome in outcomes.items() if outcome == "unavailable"]
    if unavailable:
        raise RefreshIncompleteError(f"provider unavailable for accounts {unavailable}; retrying")
    return outcomes


def schedule_token_refreshes() -> int:
    from app.social.service import schedule_token_refreshes as schedule

    return schedule()
