"""Every write to the accounts domain goes through here (pages, API, admin actions, tasks).

`users`: sign-up, profile, leads, parent links, the auth log. `passwords`: phone OTP, setting a
password, deactivation, password reset. `activity`: last-active marks and their bulk write. Callers
import from `accounts.services`.
"""

from accounts.services.activity import last_active_flush, last_active_mark
from accounts.services.passwords import (
    OTP_KEEP,
    OTP_MAX_ATTEMPTS,
    OTP_RATE_LIMIT,
    OTP_RATE_WINDOW,
    OTP_TTL,
    PASSWORD_RESET_LIMIT,
    otp_hash,
    otp_purge,
    otp_request,
    otp_verify,
    password_reset_otp_confirm,
    password_reset_otp_request,
    password_reset_otp_send,
    password_reset_request,
    password_reset_send,
    user_deactivate,
    user_password_set,
)
from accounts.services.users import (
    auth_log_record,
    free_user_capture,
    lead_adopted_hooks,
    parent_link_create,
    phone_clean,
    profile_validate,
    user_language_set,
    user_profile_update,
    user_register,
    user_signed_in,
)

__all__ = [
    "OTP_KEEP",
    "OTP_MAX_ATTEMPTS",
    "OTP_RATE_LIMIT",
    "OTP_RATE_WINDOW",
    "OTP_TTL",
    "PASSWORD_RESET_LIMIT",
    "auth_log_record",
    "user_signed_in",
    "free_user_capture",
    "last_active_flush",
    "last_active_mark",
    "lead_adopted_hooks",
    "otp_hash",
    "otp_purge",
    "otp_request",
    "otp_verify",
    "parent_link_create",
    "password_reset_otp_confirm",
    "password_reset_otp_request",
    "password_reset_otp_send",
    "password_reset_request",
    "password_reset_send",
    "phone_clean",
    "profile_validate",
    "user_language_set",
    "user_deactivate",
    "user_password_set",
    "user_profile_update",
    "user_register",
]
