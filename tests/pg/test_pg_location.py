"""A server location is checked before anything connects (issue 16 item 3): no password in the address, and TLS
that checks the server's certificate against the trust's CA for any host but this computer, proven against a
real TLS server with a throwaway CA."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from core.db.server import is_server_location, make_server_engine, parse_location
from core.errors import ValidationError
from tests.pg.server import ThrowawayServer, find_bindir

SERVER_NAME = "lantern-db.trust.test"  # a name only the certificate knows; the connection goes to 127.0.0.1


def _refused(location: str, **kw) -> str:
    with pytest.raises(ValidationError) as err:
        parse_location(location, **kw)
    assert set(err.value.field_errors) == {"server"}
    return err.value.field_errors["server"]


def test_folders_are_not_server_locations():
    assert is_server_location("postgresql://db.trust.test/lantern")
    assert not is_server_location("/home/ward/lantern-store")
    assert not is_server_location(r"C:\\Lantern\\store")


def test_a_password_in_the_address_is_refused_and_never_repeated():
    message = _refused("postgresql://nurse:hunter2-synthetic@localhost/lantern")
    assert "password" in message and "hunter2" not in message


def test_a_remote_server_needs_verify_full_and_the_trusts_ca():
    assert "certificate authority" in _refused("postgresql://db.trust.test/lantern")
    assert "verify-full" in _refused("postgresql://db.trust.test/lantern?sslmode=require", ca_file="/ca.pem")
    url = parse_location("postgresql://db.trust.test/lantern", ca_file="/etc/lantern/trust-ca.pem")
    assert url.query["sslmode"] == "verify-full" and url.query["sslrootcert"] == "/etc/lantern/trust-ca.pem"
    assert url.drivername == "postgresql+psycopg"


def test_this_computer_needs_no_tls_and_an_address_must_name_a_database():
    assert parse_location("postgresql://localhost/lantern").query == {}
    assert "database" in _refused("postgresql://localhost")
    assert "postgresql://" in _refused("mysql://localhost/lantern")


def _certificates():
    """A throwaway CA and a server certificate for SERVER_NAME signed by it, plus an unrelated CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    end = start + datetime.timedelta(days=2)

    def ca(common: str):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(name(common))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = ca("Lantern test trust CA")
    _other_key, other_cert = ca("Some other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (x509.CertificateBuilder().subject_name(name(SERVER_NAME)).issuer_name(ca_cert.subject)
                   .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME),
                                                               x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (server_cert.public_bytes(pem), key_pem), ca_cert.public_bytes(pem), other_cert.public_bytes(pem)


@pytest.fixture(scope="module")
def tls_server(pg_server):  # pg_server first: it skips, or fails on CI, when there is no PostgreSQL
    tls, ca_pem, other_pem = _certificates()
    server = ThrowawayServer.start(find_bindir(), tls=tls)
    try:
        yield server, ca_pem, other_pem
    finally:
        server.stop()


def _select_one(server, ca_file) -> tuple:
    location = f"postgresql://{SERVER_NAME}:{server.port}/postgres?hostaddr=127.0.0.1"
    engine = make_server_engine(location, username=server.superuser, password=server.password, ca_file=str(ca_file))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).one()
    finally:
        engine.dispose()


def test_a_remote_server_is_reached_over_tls_with_its_certificate_checked(tls_server, tmp_path):
    server, ca_pem, other_pem = tls_server
    (tmp_path / "trust-ca.pem").write_bytes(ca_pem)
    (tmp_path / "other-ca.pem").write_bytes(other_pem)
    assert _select_one(server, tmp_path / "trust-ca.pem") == (True,)
    with pytest.raises(sa_exc.OperationalError, match="certificate verify failed"):
        _select_one(server, tmp_path / "other-ca.pem")
