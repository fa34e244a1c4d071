import pytest

from services.publish.ssrf import UnsafeURL, blocked_reason, check_webhook_url, is_public, system_resolver

# one address from every range webhooks must not reach, with the reason it is refused for
BLOCKED = [
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("169.254.0.1", "link-local"),
    ("192.0.0.9", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("198.18.0.1", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::7f00:1", "IPv4-compatible"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("100::1", "discard"),
    ("2001::1", "Teredo"),
    ("64:ff9b:1::1", "local-use NAT64"),
    # IPv4 inside IPv6: refused for what they carry
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:7f00:1", "IPv4-mapped loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("64:ff9b::7f00:1", "NAT64 loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 link-local"),
    ("2002:7f00:1::1", "6to4 loopback"),
    ("2002:c0a8:101::1", "6to4 private"),
]


@pytest.mark.parametrize("address, reason", BLOCKED)
def test_every_non_public_range_is_blocked_with_its_reason(address, reason):
    assert not is_public(address)
    assert reason in blocked_reason(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address):
    assert is_public(address)


def resolver(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("address, reason", BLOCKED)
def test_hostname_resolving_to_a_blocked_address_is_refused(address, reason):
    with pytest.raises(UnsafeURL, match="non-public") as refused:
        check_webhook_url("https://hooks.example.com/x", False, resolver(address.split("%")[0]))
    assert "hooks.example.com" in str(refused.value)


def test_one_blocked_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(UnsafeURL, match="10.0.0.5"):
        check_webhook_url("https://hooks.example.com/x", False, resolver("93.184.216.34", "10.0.0.5"))


def test_public_hostname_is_accepted():
    check_webhook_url("https://hooks.example.com/x", False, resolver("93.184.216.34", "2606:4700:4700::1111"))


def test_unresolvable_or_addressless_host_is_refused():
    def fails(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeURL, match="does not resolve"):
        check_webhook_url("https://nowhere.example/x", False, fails)
    with pytest.raises(UnsafeURL, match="no address"):
        check_webhook_url("https://nowhere.example/x", False, resolver())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/x",
        # numeric forms the system resolver reads as 127.0.0.1 (no DNS query is made for them)
        "http://2130706433/x",
        "http://0x7f.1/x",
        "http://017700000001/x",
        "http://127.1/x",
        "http://localhost:8000/x",
    ],
)
def test_literal_and_obfuscated_private_addresses_are_refused_with_the_system_resolver(url):
    with pytest.raises(UnsafeURL, match="non-public"):
        check_webhook_url(url, False, system_resolver)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@example.com/x",
        "https://example.com@127.0.0.1/x",  # looks like example.com, goes to 127.0.0.1
        "https://example.com:443@127.0.0.1:8080/x",
        "http://example.com\\@127.0.0.1/x",  # backslash parsed differently by different URL parsers
        "http://127.0.0.1:80\\@example.com/x",
        "http://127.0.0.1#@example.com/x",
        "http://127.0.0.1?@example.com/x",
        "https://@example.com/x",
    ],
)
def test_userinfo_tricks_are_refused_even_when_private_addresses_are_allowed(url):
    with pytest.raises(UnsafeURL):
        check_webhook_url(url, True, resolver("93.184.216.34"))


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///nohost"]
)
def test_only_http_urls_with_a_host(url):
    with pytest.raises(UnsafeURL, match="http"):
        check_webhook_url(url, True, resolver("93.184.216.34"))


def test_allow_private_skips_the_address_check():
    check_webhook_url("http://127.0.0.1:9000/hook", True, resolver("127.0.0.1"))


def test_out_of_range_port_is_refused():
    with pytest.raises(UnsafeURL, match="port"):
        check_webhook_url("http://example.com:99999/x", True, resolver("93.184.216.34"))
