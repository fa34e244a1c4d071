import pytest

from services.publish.ssrf import UnsafeURL, check_webhook_url, is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses_are_blocked(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert is_public(address)


def resolver(*addresses):
    return lambda host, port: list(addresses)


def test_hostname_resolving_to_a_private_address_is_refused():
    with pytest.raises(UnsafeURL, match="non-public"):
        check_webhook_url("https://hooks.example.com/x", False, resolver("93.184.216.34", "10.0.0.5"))


def test_public_hostname_is_accepted():
    check_webhook_url("https://hooks.example.com/x", False, resolver("93.184.216.34"))


@pytest.mark.parametrize("url", ["ftp://example.com/x", "https://user:pw@example.com/x", "http:///nohost"])
def test_bad_scheme_userinfo_or_missing_host_refused_even_when_private_allowed(url):
    with pytest.raises(UnsafeURL):
        check_webhook_url(url, True, resolver("93.184.216.34"))


def test_allow_private_skips_the_address_check():
    check_webhook_url("http://127.0.0.1:9000/hook", True, resolver("127.0.0.1"))


def test_out_of_range_port_is_refused():
    with pytest.raises(UnsafeURL, match="port"):
        check_webhook_url("http://example.com:99999/x", True, resolver("93.184.216.34"))
