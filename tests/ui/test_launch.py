"""Launch settings that need no browser: the optional login."""

from __future__ import annotations

import pytest

from bpo_kb import ConfigError


def test_auth_setting_is_user_and_password() -> None:
    from ui import _auth

    assert _auth(None) is None
    assert _auth("sales:s3cret:with-colon") == ("sales", "s3cret:with-colon")


@pytest.mark.parametrize("value", ["nopassword", ":pw", "user:"])
def test_malformed_auth_setting_is_rejected_without_echoing_it(value: str) -> None:
    from ui import _auth

    with pytest.raises(ConfigError, match="must look like user:password") as info:
        _auth(value)
    assert repr("*" * len(value)) in str(info.value)  # the password is not echoed
