"""PIIScrubber: what it finds, what it leaves alone, and what scrubbing guarantees.

The tables below are the specification: real-looking text in several languages and
formats, one finding (or none) per row. ``test_table_precision_and_recall`` turns the same
tables into per-kind precision and recall, the figures quoted in docs/pii.md.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanpipe.document import Document
from cleanpipe.stages.base import STAGE_REGISTRY
from cleanpipe.stages.pii import (
    IBAN_LENGTHS,
    KINDS,
    TOKENS,
    PIIMatch,
    PIIScrubber,
    iban_valid,
    luhn_valid,
    ssn_valid,
)

# -- the table ---------------------------------------------------------------------------
# (kind, text, the exact substring that must be found)

_JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

POSITIVES: list[tuple[str, str, str]] = [
    # email
    ("email", "Please contact john.doe@example.com for details.", "john.doe@example.com"),
    ("email", "Send it to ops@mail.eu.example.org today.", "ops@mail.eu.example.org"),
    ("email", "Use jane+newsletter@example.net to subscribe.", "jane+newsletter@example.net"),
    ("email", "Schreiben Sie an jörg.müller@beispiel.de bitte.", "jörg.müller@beispiel.de"),
    ("email", "Kontakt: info@müller-bäckerei.de, Mo-Fr.", "info@müller-bäckerei.de"),
    ("email", "E-Mail: max.mustermann@web.de.", "max.mustermann@web.de"),
    ("email", "Пишите на иван@пример.рф, ответим быстро.", "иван@пример.рф"),
    ("email", "Адрес для писем: petrov@yandex.ru.", "petrov@yandex.ru"),
    ("email", "请发送邮件至zhang.wei@example.cn联系我们。", "zhang.wei@example.cn"),
    ("email", "客服邮箱：service@例子.中国", "service@例子.中国"),
    ("email", "QQ邮箱 123456789@qq.com 欢迎来信", "123456789@qq.com"),
    ("email", "お問い合わせはsupport@example.co.jpまでお願いします。", "support@example.co.jp"),
    ("email", "Écrivez à marie.dupont@exemple.fr ou appelez-nous.", "marie.dupont@exemple.fr"),
    ("email", "Correo: soporte@empresa.com.mx (lunes a viernes)", "soporte@empresa.com.mx"),
    ("email", "EMAIL: JOHN.SMITH@EXAMPLE.COM", "JOHN.SMITH@EXAMPLE.COM"),
    ("email", "From: Jane Roe <jane.roe@example.org>", "jane.roe@example.org"),
    ("email", '<a href="mailto:sales@example.com">Sales</a>', "sales@example.com"),
    (
        "email",
        'ADMIN_EMAIL = "first_last-99@sub-domain.example.io"',
        "first_last-99@sub-domain.example.io",
    ),
    ("email", " -- Jane Roe <jroe@debian.org>  Mon, 01 Jan 2024 12:00:00 +0000", "jroe@debian.org"),
    ("email", "Reach the team at team@company.tech or hello@startup.io.", "team@company.tech"),
    ("email", "mail me: o'brien@example.ie", "o'brien@example.ie"),
    ("email", "Kontaktieren Sie kontakt@firma.berlin.", "kontakt@firma.berlin"),
    ("email", "mail john@example.com.Thanks again", "john@example.com"),
    ("email", "Author: Guido van Rossum <guido@python.org>", "guido@python.org"),
    ("email", "contact: press@brand.accountant", "press@brand.accountant"),  # rare gTLD
    # phone
    ("phone", "Rufen Sie uns an: +49 30 1234567.", "+49 30 1234567"),
    ("phone", "Tel. +49 (0)30 1234567", "+49 (0)30 1234567"),
    ("phone", "Telefon 030-1234567 (Zentrale)", "030-1234567"),
    ("phone", "Tel.: 030 1234567", "030 1234567"),
    ("phone", "Fax 030/1234567", "030/1234567"),
    ("phone", "Handy: 0171 2345678", "0171 2345678"),
    ("phone", "Call (555) 123-4567 today.", "(555) 123-4567"),
    ("phone", "Office: 555-123-4567", "555-123-4567"),
    ("phone", "Reach us at 555.123.4567.", "555.123.4567"),
    ("phone", "US office +1 (555) 123-4567", "+1 (555) 123-4567"),
    ("phone", "Dial +1-202-555-0173 now", "+1-202-555-0173"),
    ("phone", "Toll free 1-800-555-0199.", "1-800-555-0199"),
    ("phone", "Appelez le 06 12 34 56 78 après 18h.", "06 12 34 56 78"),
    ("phone", "Tél : 01.23.45.67.89", "01.23.45.67.89"),
    ("phone", "Mobile : +33 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("phone", "Standard +33 (0)1 23 45 67 89", "+33 (0)1 23 45 67 89"),
    ("phone", "London office +44 20 7946 0958", "+44 20 7946 0958"),
    ("phone", "ring 020 7946 0958 any time", "020 7946 0958"),
    ("phone", "mobile 07700 900123", "07700 900123"),
    ("phone", "联系电话：+86 138 0013 8000", "+86 138 0013 8000"),
    ("phone", "手机 138 0013 8000，随时联系", "138 0013 8000"),
    ("phone", "电话：13800138000", "13800138000"),
    ("phone", "北京办公室 010-12345678", "010-12345678"),
    ("phone", "Звоните: 8 (495) 123-45-67", "8 (495) 123-45-67"),
    ("phone", "Телефон +7 495 123-45-67", "+7 495 123-45-67"),
    ("phone", "моб. +7 (916) 123-45-67", "+7 (916) 123-45-67"),
    ("phone", "Горячая линия 8-800-555-35-35", "8-800-555-35-35"),
    ("phone", "電話番号は03-1234-5678です。", "03-1234-5678"),
    ("phone", "携帯：090-1234-5678", "090-1234-5678"),
    ("phone", "Tokyo +81 3-1234-5678", "+81 3-1234-5678"),
    ("phone", "Sydney +61 2 9876 5432", "+61 2 9876 5432"),
    ("phone", "Phone (02) 9876 5432", "(02) 9876 5432"),
    ("phone", "Mob 0412 345 678", "0412 345 678"),
    ("phone", "Roma +39 06 1234 5678", "+39 06 1234 5678"),
    ("phone", "cellulare 333 123 4567", "333 123 4567"),
    ("phone", "Madrid +34 612 34 56 78", "+34 612 34 56 78"),
    ("phone", "móvil 612 34 56 78", "612 34 56 78"),
    ("phone", "Delhi +91 98765 43210", "+91 98765 43210"),
    ("phone", "São Paulo +55 11 91234-5678", "+55 11 91234-5678"),
    ("phone", "ligue (11) 91234-5678", "(11) 91234-5678"),
    ("phone", "Aus dem Ausland: 0049 30 1234567", "0049 30 1234567"),
    ("phone", "Amsterdam +31 20 123 4567", "+31 20 123 4567"),
    ("phone", "bel 020-123 4567", "020-123 4567"),
    ("phone", "Seoul +82 2-312-3456", "+82 2-312-3456"),
    ("phone", "서울 02-312-3456", "02-312-3456"),
    ("phone", "Hong Kong +852 2123 4567", "+852 2123 4567"),
    ("phone", "Call 555-1234 after six", "555-1234"),
    ("phone", "phone: 5551234567", "5551234567"),
    ("phone", "Ring me on 98 76 54 32", "98 76 54 32"),  # Norwegian, no trunk prefix
    # ip_address
    ("ip_address", "Server IP: 192.168.1.10", "192.168.1.10"),
    ("ip_address", "connect to 10.0.0.1 first", "10.0.0.1"),
    (
        "ip_address",
        '203.0.113.42 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200',
        "203.0.113.42",
    ),
    ("ip_address", "curl http://198.51.100.7:8080/api", "198.51.100.7"),
    ("ip_address", "DNS 8.8.8.8 and 1.1.1.1", "8.8.8.8"),
    ("ip_address", "ssh root@172.16.254.1", "172.16.254.1"),
    ("ip_address", "Die IP-Adresse 62.157.140.133 wurde gesperrt.", "62.157.140.133"),
    ("ip_address", "l'adresse IP 81.2.69.160 est bloquée", "81.2.69.160"),
    ("ip_address", "服务器地址：47.95.123.10", "47.95.123.10"),
    ("ip_address", "IPアドレスは133.242.0.1です", "133.242.0.1"),
    ("ip_address", "IP-адрес 95.213.4.12 заблокирован", "95.213.4.12"),
    ("ip_address", "route add 10.0.0.0/8", "10.0.0.0"),
    ("ip_address", "Received: from mail.example.com ([209.85.220.41])", "209.85.220.41"),
    (
        "ip_address",
        "v6: 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    ),
    ("ip_address", "address 2001:db8::8a2e:370:7334 assigned", "2001:db8::8a2e:370:7334"),
    ("ip_address", "link-local fe80::1ff:fe23:4567:890a%eth0", "fe80::1ff:fe23:4567:890a"),
    ("ip_address", "mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"),
    ("ip_address", "GET http://[2001:db8::1]:443/", "2001:db8::1"),
    ("ip_address", "Googlebot kam von 2a00:1450:4001:82b::200e.", "2a00:1450:4001:82b::200e"),
    ("ip_address", "IPv6 fe80::1 on lo", "fe80::1"),
    # credit_card
    ("credit_card", "Card: 4111 1111 1111 1111, exp 12/27", "4111 1111 1111 1111"),
    ("credit_card", "Kartennummer: 4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("credit_card", "Numéro de carte 5555 5555 5555 4444 exp. 12/27", "5555 5555 5555 4444"),
    ("credit_card", "MC 5105105105105100 was charged", "5105105105105100"),
    ("credit_card", "new Mastercard 2223 0031 2200 3222", "2223 0031 2200 3222"),
    ("credit_card", "Amex 3782 822463 10005", "3782 822463 10005"),
    ("credit_card", "AMEX: 371449635398431", "371449635398431"),
    ("credit_card", "Discover 6011 1111 1111 1117.", "6011 1111 1111 1117"),
    ("credit_card", "Diners 3056 9309 0259 04", "3056 9309 0259 04"),
    ("credit_card", "JCB 3530 1113 3330 0000", "3530 1113 3330 0000"),
    ("credit_card", "卡号：6200000000000005", "6200000000000005"),
    ("credit_card", "Номер карты 4276 3800 1234 5679", "4276 3800 1234 5679"),
    ("credit_card", "Карта «Мир» 2200 0000 0000 0004", "2200 0000 0000 0004"),
    ("credit_card", "カード番号 3566-0020-2036-0505", "3566-0020-2036-0505"),
    ("credit_card", "UnionPay 6282 1234 5678 9012 345", "6282 1234 5678 9012 345"),
    ("credit_card", 'card_number = "4242424242424242"', "4242424242424242"),
    ("credit_card", "Visa 4012 8888 8888 1881 / CVV 123", "4012 8888 8888 1881"),
    # iban
    ("iban", "IBAN: DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX", "DE89 3704 0044 0532 0130 00"),
    ("iban", "Bitte überweisen Sie an DE89370400440532013000.", "DE89370400440532013000"),
    (
        "iban",
        "Account GB29 NWBK 6016 1331 9268 19 (Sort code 60-16-13)",
        "GB29 NWBK 6016 1331 9268 19",
    ),
    ("iban", "RIB / IBAN : FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
    ("iban", "Rekening NL91ABNA0417164300", "NL91ABNA0417164300"),
    ("iban", "Konto CH93 0076 2011 6238 5295 7", "CH93 0076 2011 6238 5295 7"),
    ("iban", "AT61 1904 3002 3457 3201 lautet die IBAN", "AT61 1904 3002 3457 3201"),
    ("iban", "BE68 5390 0754 7034", "BE68 5390 0754 7034"),
    ("iban", "Cuenta ES91 2100 0418 4502 0005 1332", "ES91 2100 0418 4502 0005 1332"),
    ("iban", "Conto IT60 X054 2811 1010 0000 0123 456", "IT60 X054 2811 1010 0000 0123 456"),
    ("iban", "Rachunek PL61 1090 1014 0000 0712 1981 2874", "PL61 1090 1014 0000 0712 1981 2874"),
    ("iban", "Kontonr NO93 8601 1117 947", "NO93 8601 1117 947"),
    ("iban", "SE45 5000 0000 0583 9825 7466", "SE45 5000 0000 0583 9825 7466"),
    ("iban", "账户：SA0380000000608010167519。", "SA0380000000608010167519"),
    (
        "iban",
        "Рахунок UA21 3223 1300 0002 6007 2335 6600 1",
        "UA21 3223 1300 0002 6007 2335 6600 1",
    ),
    ("iban", "Hesap TR33 0006 1005 1978 6457 8413 26", "TR33 0006 1005 1978 6457 8413 26"),
    ("iban", "BR18 0036 0305 0000 1000 9795 493C 1", "BR18 0036 0305 0000 1000 9795 493C 1"),
    ("iban", "MT84 MALT 0110 0001 2345 MTLC AST0 01S", "MT84 MALT 0110 0001 2345 MTLC AST0 01S"),
    ("iban", "口座 QA58DOHB00001234567890ABCDEFG です", "QA58DOHB00001234567890ABCDEFG"),
    ("iban", "IBAN HU42 1177 3016 1111 1018 0000 0000", "HU42 1177 3016 1111 1018 0000 0000"),
    # us_ssn
    ("us_ssn", "SSN: 123-45-6789", "123-45-6789"),
    ("us_ssn", "Her social security number is 219-09-9998.", "219-09-9998"),
    ("us_ssn", "Employee 536-22-1234 was hired", "536-22-1234"),
    ("us_ssn", "SSN 123 45 6789 on the form", "123 45 6789"),
    ("us_ssn", "ssn=123456789&name=x", "123456789"),
    ("us_ssn", "US-Sozialversicherungsnummer (SSN): 078-05-1121", "078-05-1121"),
    ("us_ssn", "Numéro de sécurité sociale américain 665-12-3456", "665-12-3456"),
    ("us_ssn", '{"ssn": "001-01-0001"}', "001-01-0001"),
    ("us_ssn", "社会保障番号 772-81-4409", "772-81-4409"),
    ("us_ssn", "| Doe, John | 457-55-5462 | Ohio |", "457-55-5462"),
    # secret
    ("secret", "aws_access_key_id = AKIAZ3MHQ4WXYV2K7PLN", "AKIAZ3MHQ4WXYV2K7PLN"),
    (
        "secret",
        "export TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    ),
    (
        "secret",
        "token: github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    ),
    ("secret", "GITLAB_TOKEN=glpat-x8Kd9_2mQpL4vN7rT1sZ", "glpat-x8Kd9_2mQpL4vN7rT1sZ"),
    (
        "secret",
        "slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "secret",
        "Authorization: Bearer " + _JWT,
        _JWT,
    ),
    (
        "secret",
        "curl -H 'Authorization: Bearer 7f3a9c2e1b4d8f6a0c5e9b2d7a1f3c8e'",
        "7f3a9c2e1b4d8f6a0c5e9b2d7a1f3c8e",
    ),
    ("secret", "Authorization: Basic dXNlcjpodW50ZXIyMDI0IQ==", "dXNlcjpodW50ZXIyMDI0IQ=="),
    (
        "secret",
        "DATABASE_URL=postgres://admin:Sup3rS3cret@db.internal:5432/app",
        "admin:Sup3rS3cret",
    ),
    ("secret", "git clone https://deploy:g1tT0ken99@git.example.com/repo.git", "deploy:g1tT0ken99"),
    (
        "secret",
        "GOOGLE_API_KEY=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    ),
    (
        "secret",
        "stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "secret",
        "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    ),
    (
        "secret",
        "//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    ),
    (
        "secret",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8r2vT1pA",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8r2vT1pA",
    ),
    (
        "secret",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x2y3z4\nq8r7s6t5u4v3w2x1y0z9\n"
        "-----END RSA PRIVATE KEY-----\nend",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x2y3z4\nq8r7s6t5u4v3w2x1y0z9\n"
        "-----END RSA PRIVATE KEY-----",
    ),
    (
        "secret",
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0B\\n'
        '-----END PRIVATE KEY-----\\n"}',
        "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0B\\n-----END PRIVATE KEY-----",
    ),
]

# (what it is, text): nothing may be found.
NEGATIVES: list[tuple[str, str]] = [
    # version numbers and changelogs
    ("changelog", "## [1.2.3.4] - 2023-01-15\n### Fixed\n- crash on start"),
    ("changelog", "## [2.10.12.1] - 2023-01-15"),
    ("changelog", "1.2.3.4 (2023-01-15)\n----------------\n* Bump requests to 2.31.0"),
    ("changelog", "Version 4.19.0.12 released on 2021-03-04"),
    ("changelog", "pip install foo==2.0.10.1"),
    ("changelog", "python3-foo (1.2.3-4) unstable; urgency=medium"),
    ("changelog", "Windows 10.0.19041.1 build"),
    ("changelog", "release 2.14.1-rc.1, tagged as v3.0.0.1"),
    ("changelog", "Updated from 1.9.2.3 to 1.10.0.0"),
    ("changelog", "Section 12.3.4.5 describes the encoding."),
    ("changelog", "SNMP OID 1.3.6.1.4.1.2021.10.1.3.1"),
    ("changelog", "Copyright (C) 1999-2004 Free Software Foundation, Inc."),
    # dates and times
    ("date", "Meeting on 2023-01-15 at 10:30:45."),
    ("date", "Am 15.01.2023 um 14:30 Uhr."),
    ("date", "Due 01/15/2023 10:00 AM"),
    ("date", "Le 15/01/2023, 09:00"),
    ("date", "2023年1月15日 10时30分"),
    ("date", "timestamp 2023-01-15T10:30:00+02:00"),
    ("date", "Log: 20230115 103000 started"),
    ("date", "epoch 1700000000 ms 1700000000000"),
    # identifiers
    ("isbn", "ISBN 978-3-16-148410-0"),
    ("isbn", "ISBN 0-306-40615-2"),
    ("isbn", "ISBN-13: 9780306406157"),
    ("uuid", "id 550e8400-e29b-41d4-a716-446655440000"),
    ("git", "commit 3f786850e387550fdab836ed7e6dc881de23001b"),
    ("git", "Merge: 1a2b3c4 5d6e7f8"),
    ("hash", "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("order", "Order #123456789 shipped"),
    ("order", "Bestellnummer 4711-0815-42"),
    ("order", "Rechnung Nr. 2023-000123"),
    ("order", "tracking 1Z999AA10123456784"),
    ("order", "ИНН 7707083893, ОГРН 1027700132195"),
    ("postal", "〒100-0001 東京都千代田区"),
    ("postal", "10115 Berlin, 75008 Paris"),
    # money and measures
    ("price", "Preis: 1.234.567,89 €"),
    ("price", "Total $1,234,567.00 due"),
    ("price", "Prix : 1 234 567 € TTC"),
    ("price", "Population 83 190 556 (2023)"),
    ("coords", "Paris 48.8566, 2.3522"),
    ("coords", "GPS 52.520008 13.404954"),
    ("coords", "N 52° 31.2' E 013° 24.3'"),
    ("stats", "p < 0.001, n = 1234567, r = 0.98"),
    ("stats", "values 0.25 0.50 0.75 1.00"),
    # code
    ("code", "server.listen(8080); app.get('localhost:3000')"),
    ("code", "x = [1, 2, 3, 4, 5, 6, 7, 8]\nMAX = 2147483647\nmask = 0x7fff0000"),
    ("code", "for i in range(0, 1000000): total += i * 31"),
    ("code", "std::vector<int> v; Foo::Bar::baz(); a[::2]; x[1::2]"),
    ("code", "mac = '00:1A:2B:3C:4D:5E'  # hw address"),
    ("code", "@property\ndef name(self):\n    return self._name"),
    ("code", "y = x@self.weight.T + b"),
    ("code", 'img src="icon@2x.png"'),
    ("code", "git remote add origin git@github.com:org/repo.git"),
    ("code", "docker pull python@sha256:4a5b6c7d8e9f"),
    ("code", "const CHECKSUM = 4111111111111112;"),
    ("code", "assert crc32(data) == 3632233996"),
    ("code", "float pi = 3.14159265358979;"),
    ("code", '"scripts": {"build": "webpack --mode production"}, "version": "1.0.0.0"'),
    # look-alike checksums
    ("card", "Card 4111 1111 1111 1112 (invalid)"),
    ("card", "1234 5678 9012 3456 is not a card"),
    ("card", "Reference 0000 0000 0000 0000"),
    ("iban", "DE89 3704 0044 0532 0130 01 (wrong check digits)"),
    ("iban", "DE89370400440532013 is too short"),
    ("iban", "XX89 3704 0044 0532 0130 00"),
    ("iban", "SKU AB12CD34EF56GH78"),
    ("ssn", "000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000"),
    ("ssn", "078-05-1120 was the Woolworth wallet number"),
    ("ssn", "part no. 123456789, ref. 123 45 6789"),
    # secrets look-alikes
    ("secret", "AWS docs use AKIAIOSFODNN7EXAMPLE as a sample key."),
    ("secret", "We use bearer token authentication."),
    ("secret", "Authorization: Bearer <token>"),
    ("secret", "Authorization: Bearer YOUR_ACCESS_TOKEN_HERE_PLEASE"),
    ("secret", "postgres://user:password@localhost/db"),
    ("secret", "https://user:${PASSWORD}@host.example.com/"),
    (
        "secret",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "-----END PUBLIC KEY-----",
    ),
    ("secret", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG\n"),
    ("secret", "GitHub tokens start with ghp_ and GitLab ones with glpat-."),
    ("secret", "task-list and disk-usage and risk-based"),
    ("prose", "The quick brown fox jumps over the lazy dog. Der Bus fährt um 7 Uhr."),
    ("prose", "Он родился в 1985 году и прожил 75 лет."),
    ("prose", "東京タワーは1958年に完成し、高さは333メートルです。"),
    ("prose", "In 2019, 1,234 people attended; in 2020 only 567."),
]

# Further real findings in rows of POSITIVES (not false positives).
ALSO_PII = {("email", "hello@startup.io"), ("ip_address", "1.1.1.1")}

# Known gaps: rows of POSITIVES that are not found today (see docs/pii.md).
KNOWN_MISSES = {
    "press@brand.accountant",  # gTLD outside the closed list
    "98 76 54 32",  # eight-digit Nordic numbers without a trunk prefix or context word
}


def _found(text: str) -> set[tuple[str, str]]:
    return {(m.kind, m.text) for m in PIIScrubber().find(text)}


@pytest.mark.parametrize(
    ("kind", "text", "pii"),
    [
        pytest.param(*row, id=row[2], marks=[pytest.mark.xfail(strict=True)])
        if row[2] in KNOWN_MISSES
        else pytest.param(*row, id=row[2])
        for row in POSITIVES
    ],
)
def test_finds_positive(kind: str, text: str, pii: str) -> None:
    assert (kind, pii) in _found(text)


@pytest.mark.parametrize(
    ("label", "text"), NEGATIVES, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVES)]
)
def test_leaves_negative_alone(label: str, text: str) -> None:
    assert PIIScrubber().find(text) == []


def table_scores() -> dict[str, tuple[float, float, int, int, int]]:
    """Per kind: precision, recall, true positives, false positives, false negatives."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    scrubber = PIIScrubber()
    for kind, text, pii in POSITIVES:
        found = {(m.kind, m.text) for m in scrubber.find(text)}
        if (kind, pii) in found:
            tp[kind] += 1
            found.discard((kind, pii))
        else:
            fn[kind] += 1
        for other_kind, other in found:
            # another real finding in the same row (e.g. a second address) is not an error
            if (other_kind, other) not in ALSO_PII:
                fp[other_kind] += 1
    for _, text in NEGATIVES:
        for m in scrubber.find(text):
            fp[m.kind] += 1
    scores = {}
    for kind in KINDS:
        p = tp[kind] / ((tp[kind] + fp[kind]) or 1)
        r = tp[kind] / ((tp[kind] + fn[kind]) or 1)
        scores[kind] = (p, r, tp[kind], fp[kind], fn[kind])
    return scores


def test_table_precision_and_recall() -> None:
    """The issue's aims: recall >= 0.95 (email, IP, card, IBAN, SSN), >= 0.90 (phone),
    precision >= 0.95."""
    scores = table_scores()
    for kind, (p, r, *_) in scores.items():
        assert p >= 0.95, (kind, scores[kind])
        assert r >= (0.90 if kind in ("phone", "secret") else 0.95), (kind, scores[kind])


# -- find() and scrub() contracts --------------------------------------------------------


def test_find_gives_offsets_on_the_original_string() -> None:
    text = "Grüße 👋 an jörg@müller.de und 📞 +49 30 1234567!"
    matches = PIIScrubber().find(text)
    assert [m.kind for m in matches] == ["email", "phone"]
    for m in matches:
        assert text[m.start : m.end] == m.text
    assert isinstance(matches[0], PIIMatch)


def test_scrub_replaces_each_match_with_its_token() -> None:
    text = "Mail jane@example.org, call (555) 123-4567, card 4111 1111 1111 1111."
    assert PIIScrubber().scrub(text) == (
        "Mail <EMAIL_ADDRESS>, call <PHONE_NUMBER>, card <CREDIT_CARD>."
    )


def test_scrub_keeps_surrounding_unicode_intact() -> None:
    text = "请联系zhang@example.cn或拨打电话138 0013 8000。谢谢！"
    assert PIIScrubber().scrub(text) == "请联系<EMAIL_ADDRESS>或拨打电话<PHONE_NUMBER>。谢谢！"


def test_overlap_prefers_the_more_specific_kind() -> None:
    # The password in the URL also looks like "s3cr3t@db.example.com": one finding only.
    text = "DSN postgres://app:s3cr3t@db.example.com/prod"
    matches = PIIScrubber().find(text)
    assert [(m.kind, m.text) for m in matches] == [("secret", "app:s3cr3t")]


def test_card_next_to_expiry_date_and_second_card() -> None:
    text = "4111 1111 1111 1111 12/27 5555 5555 5555 4444"
    assert [m.text for m in PIIScrubber().find(text)] == [
        "4111 1111 1111 1111",
        "5555 5555 5555 4444",
    ]


def test_ip_followed_by_port_is_an_address_even_when_version_like() -> None:
    assert _found("listening on 1.2.3.4:8080") == {("ip_address", "1.2.3.4")}
    assert _found("upgrade to 1.2.3.4 now") == set()


# -- options -----------------------------------------------------------------------------


def test_kinds_selects_what_is_scrubbed() -> None:
    text = "jane@example.org 192.168.1.10"
    assert PIIScrubber(kinds=["email"]).scrub(text) == "<EMAIL_ADDRESS> 192.168.1.10"


def test_unknown_kind_and_replace_mode_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown PII kinds"):
        PIIScrubber(kinds=["name"])
    with pytest.raises(ValueError, match="replace"):
        PIIScrubber(replace="hash")


def test_keep_private_ips_keeps_private_and_documentation_ranges() -> None:
    text = "lan 192.168.1.10, doc 203.0.113.5, v6 fe80::1, mapped ::ffff:10.1.2.3, wan 81.2.69.160"
    kept = PIIScrubber(keep_private_ips=True).find(text)
    assert [m.text for m in kept] == ["81.2.69.160"]
    assert len(PIIScrubber().find(text)) == 5


def test_fake_replacement_is_consistent_and_harmless() -> None:
    scrubber = PIIScrubber(replace="fake")
    text = (
        "jane@example.org wrote to jane@example.org; card 4111 1111 1111 1111; "
        "IBAN DE89 3704 0044 0532 0130 00; SSN 123-45-6789; ip 81.2.69.160; "
        "tel +49 30 1234567; key ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    )
    out = scrubber.scrub(text)
    assert out == scrubber.scrub(text)
    emails = re.findall(r"\S+@example\.com", out)
    assert len(emails) == 2 and emails[0] == emails[1]
    assert "jane@example.org" not in out and "4111" not in out and "DE89" not in out
    assert re.search(r"\b(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+", out)
    assert "555-0" in out and "000-" in out and "ghp_" not in out
    for m in PIIScrubber().find(out):  # the fakes are not real cards, IBANs or SSNs
        assert m.kind not in ("credit_card", "iban", "us_ssn")
    other = PIIScrubber(replace="fake", fake_key="another key").scrub(text)
    assert other != out


def test_fake_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_TEST_KEY", "s3cret")
    from_env = PIIScrubber(replace="fake", fake_key="env:PII_TEST_KEY")
    assert from_env.params() == {"replace": "fake", "fake_key": "env:PII_TEST_KEY"}
    text = "mail jane@example.org"
    assert from_env.scrub(text) == PIIScrubber(replace="fake", fake_key="s3cret").scrub(text)
    with pytest.raises(ValueError, match="PII_TEST_MISSING"):
        PIIScrubber(replace="fake", fake_key="env:PII_TEST_MISSING")


# -- the stage ---------------------------------------------------------------------------


def test_registered_as_pii() -> None:
    assert STAGE_REGISTRY["pii"] is PIIScrubber


def test_stage_scrubs_and_records_counts() -> None:
    stage = PIIScrubber()
    docs = [
        Document("a", "Mail jane@example.org or joe@example.org, call (555) 123-4567."),
        Document("b", "No personal data here at all."),
    ]
    out = list(stage(docs))
    assert out[0].text == "Mail <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, call <PHONE_NUMBER>."
    assert out[0].meta["pii"] == {"email": 2, "phone": 1}
    assert out[1].meta["pii"] == {}
    assert stage.kind_counts == Counter({"email": 2, "phone": 1})
    assert stage.stats.modified == 1


def test_max_hits_drops_documents_with_too_much_pii() -> None:
    stage = PIIScrubber(max_hits=2)
    docs = [Document("a", "a@example.org b@example.org c@example.org"), Document("b", "x@y.de")]
    assert [d.id for d in stage(docs)] == ["b"]
    assert stage.stats.dropped == Counter({"pii:too_many_pii": 1})


def test_max_hits_drop_detail_counts_hits_by_kind_against_the_limit() -> None:
    stage = PIIScrubber(max_hits=2)
    seen: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((reason, detail))
    text = "Mail jane@example.org or joe@example.org, or call (555) 123-4567 after six."
    assert list(stage([Document("a", text)])) == []
    assert seen == [("pii:too_many_pii", "pii hits 3 > 2 (email 2, phone 1)")]


def test_annotate_only_counts_without_changing_or_dropping() -> None:
    stage = PIIScrubber(max_hits=0, annotate_only=True)
    doc = Document("a", "Mail jane@example.org")
    (kept,) = list(stage([doc]))
    assert kept.text == "Mail jane@example.org"
    assert kept.meta["pii"] == {"email": 1}
    assert stage.stats.would_drop == Counter({"pii:too_many_pii": 1})


# -- properties --------------------------------------------------------------------------

# Surrounding text: any letters, marks, punctuation and spaces of any script, no digits
# (so that every digit in the output comes from the value under test).
_SURROUNDING = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="\x00"),
    max_size=40,
)
_BEFORE = st.sampled_from([" ", "\n", ": ", " (", "：", " «", "\t"])
_AFTER = st.sampled_from([" ", "\n", ", ", ". ", ") ", "。", "; ", "»"])
_PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


# (issuer prefix, length): Visa, Mastercard, Amex, Diners, Discover, UnionPay, JCB, Mir
_CARD_FAMILIES = [
    ("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
    ("37", 15), ("36", 14), ("6011", 16), ("65", 16), ("62", 19), ("35", 16), ("2200", 16),
]  # fmt: skip
_DIGIT_CHARS = st.sampled_from("0123456789")


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(_CARD_FAMILIES))
    size = length - len(prefix) - 1
    body = prefix + "".join(draw(st.lists(_DIGIT_CHARS, min_size=size, max_size=size)))
    number = _with_check_digit(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    if not sep:
        return number
    if length == 15:
        return sep.join((number[:4], number[4:10], number[10:]))
    if length == 14 and draw(st.booleans()):
        return sep.join((number[:4], number[4:10], number[10:]))
    return sep.join(number[i : i + 4] for i in range(0, length, 4))


def _luhn_valid_runs(text: str) -> list[str]:
    """Every 13-19 digit window of every digit run (spaces and dashes allowed between
    digits) that passes Luhn: an independent check, not our detector."""
    found = []
    for run in re.findall(r"\d(?:[ -]?\d)*", text):
        digits = re.sub(r"\D", "", run)
        for size in range(13, 20):
            for i in range(len(digits) - size + 1):
                if luhn_valid(digits[i : i + size]):
                    found.append(digits[i : i + size])
    return found


@_PROPERTY_SETTINGS
@given(_SURROUNDING, _BEFORE, cards(), _AFTER, _SURROUNDING)
def test_scrub_never_leaves_a_luhn_valid_card(
    head: str, before: str, card: str, after: str, tail: str
) -> None:
    out = PIIScrubber().scrub(head + before + card + after + tail)
    assert _luhn_valid_runs(out) == []


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    alphabet = draw(st.sampled_from(["0123456789", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]))
    size = IBAN_LENGTHS[country] - 4
    bban = "".join(draw(st.lists(st.sampled_from(alphabet), min_size=size, max_size=size)))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - number % 97:02d}{bban}"
    assert iban_valid(iban)
    if draw(st.booleans()):
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@_PROPERTY_SETTINGS
@given(_SURROUNDING, _BEFORE, ibans(), _AFTER, _SURROUNDING)
def test_scrub_never_leaves_a_valid_iban(
    head: str, before: str, iban: str, after: str, tail: str
) -> None:
    out = PIIScrubber().scrub(head + before + iban + after + tail)
    compact = re.sub(r"\s", "", out)
    assert iban.replace(" ", "") not in compact
    for candidate in re.findall(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        assert not any(iban_valid(candidate[:n]) for n in range(15, len(candidate) + 1))


_LOCAL_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_+-]{0,10}(?:\.[A-Za-z0-9_+-]{1,8})?)?"
_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(_LOCAL_PART, fullmatch=True))
    labels = draw(st.lists(_LABEL, min_size=1, max_size=3))
    tld = draw(st.sampled_from(["com", "org", "net", "de", "fr", "co.uk", "io", "ru", "cn"]))
    return f"{local}@{'.'.join(labels)}.{tld}"


@_PROPERTY_SETTINGS
@given(
    _SURROUNDING,
    st.sampled_from([" ", "\n", "<", " (", ": ", "，"]),
    emails(),
    st.sampled_from([" ", ">", ", ", ". ", ")", "\n", "。"]),
    _SURROUNDING,
)
def test_scrub_never_leaves_an_email(
    head: str, before: str, email: str, after: str, tail: str
) -> None:
    out = PIIScrubber().scrub(head + before + email + after + tail)
    assert email not in out
    assert "@" + email.split("@")[1] not in out


@_PROPERTY_SETTINGS
@given(st.text(max_size=200))
def test_find_and_scrub_are_consistent_on_any_text(text: str) -> None:
    scrubber = PIIScrubber()
    matches = scrubber.find(text)
    pos = 0
    rebuilt = []
    for m in matches:
        assert pos <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
        rebuilt += [text[pos : m.start], TOKENS[m.kind]]
        pos = m.end
    assert scrubber.scrub(text) == "".join(rebuilt) + text[pos:]


def test_validators() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST12345698765431")
    assert not iban_valid("GB82WEST1234569876543")  # wrong length for GB
    assert ssn_valid("123", "45", "6789")
    assert not ssn_valid("666", "45", "6789") and not ssn_valid("987", "65", "4321")
    assert not ssn_valid("123", "00", "6789") and not ssn_valid("123", "45", "0000")
