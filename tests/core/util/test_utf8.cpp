// Tests for core/util/utf8.h: exact bytes of every encoding length and its edges, ill-formed input decoded by
// maximal subparts (expected values from Python's bytes.decode("utf-8", "replace"), including the Unicode
// Standard's Table 3-8 example), surrogates, truncation at character boundaries; and that the tokenizer's,
// the Python-literal reader's and the scorers' UTF-8 functions agree with it.
#include <QtTest>

#include <string>

#include "core/conversation/python_literal.h"
#include "core/eval/py_compat.h"
#include "core/tokenizer/unicode_normalize.h"
#include "core/util/utf8.h"

using namespace matrix;

namespace {

QByteArray hex(const std::string& s) { return QByteArray(s.data(), int(s.size())).toHex(); }

std::string bytes(const QByteArray& hex_text) {
    const QByteArray b = QByteArray::fromHex(hex_text);
    return std::string(b.constData(), size_t(b.size()));
}

QString code_points(const std::u32string& cps) {
    QStringList out;
    for (char32_t c : cps) out << QString::number(uint(c), 16);
    return out.join(' ');
}

}  // namespace

class TestUtf8 : public QObject {
    Q_OBJECT
private slots:
    void append_data() {
        QTest::addColumn<uint>("cp");
        QTest::addColumn<QByteArray>("expected");  // hex
        QTest::newRow("U+0000") << 0x0u << QByteArray("00");
        QTest::newRow("U+0041") << 0x41u << QByteArray("41");
        QTest::newRow("U+007F") << 0x7Fu << QByteArray("7f");
        QTest::newRow("U+0080") << 0x80u << QByteArray("c280");
        QTest::newRow("U+00E9") << 0xE9u << QByteArray("c3a9");
        QTest::newRow("U+07FF") << 0x7FFu << QByteArray("dfbf");
        QTest::newRow("U+0800") << 0x800u << QByteArray("e0a080");
        QTest::newRow("U+20AC") << 0x20ACu << QByteArray("e282ac");
        QTest::newRow("U+D7FF") << 0xD7FFu << QByteArray("ed9fbf");
        QTest::newRow("U+D800 surrogate") << 0xD800u << QByteArray("efbfbd");
        QTest::newRow("U+DBFF surrogate") << 0xDBFFu << QByteArray("efbfbd");
        QTest::newRow("U+DC00 surrogate") << 0xDC00u << QByteArray("efbfbd");
        QTest::newRow("U+DFFF surrogate") << 0xDFFFu << QByteArray("efbfbd");
        QTest::newRow("U+E000") << 0xE000u << QByteArray("ee8080");
        QTest::newRow("U+FFFF") << 0xFFFFu << QByteArray("efbfbf");
        QTest::newRow("U+10000") << 0x10000u << QByteArray("f0908080");
        QTest::newRow("U+1F600") << 0x1F600u << QByteArray("f09f9880");
        QTest::newRow("U+10FFFF") << 0x10FFFFu << QByteArray("f48fbfbf");
        QTest::newRow("0x110000 too large") << 0x110000u << QByteArray("efbfbd");
        QTest::newRow("0xFFFFFFFF") << 0xFFFFFFFFu << QByteArray("efbfbd");
    }
    void append() {
        QFETCH(uint, cp);
        QFETCH(QByteArray, expected);
        std::string out = "x";
        utf8::append(out, char32_t(cp));
        QCOMPARE(hex(out), QByteArray("78") + expected);
        QCOMPARE(hex(utf8::encode(std::u32string(1, char32_t(cp)))), expected);
    }

    void decode_data() {
        QTest::addColumn<QByteArray>("input");       // hex
        QTest::addColumn<QString>("cps");            // code points, hex
        QTest::addColumn<QByteArray>("sanitized");   // hex
        QTest::addColumn<bool>("valid");
        QTest::newRow("empty") << QByteArray("") << "" << QByteArray("") << true;
        QTest::newRow("ascii + 2-byte") << QByteArray("61c3a9") << "61 e9" << QByteArray("61c3a9") << true;
        QTest::newRow("4-byte") << QByteArray("f09f9880") << "1f600" << QByteArray("f09f9880") << true;
        QTest::newRow("U+D7FF, last before surrogates") << QByteArray("ed9fbf") << "d7ff" << QByteArray("ed9fbf") << true;
        QTest::newRow("U+10FFFF") << QByteArray("f48fbfbf") << "10ffff" << QByteArray("f48fbfbf") << true;
        QTest::newRow("truncated 3-byte: one U+FFFD") << QByteArray("e282") << "fffd" << QByteArray("efbfbd") << false;
        QTest::newRow("truncated 3-byte then ASCII") << QByteArray("e28241") << "fffd 41" << QByteArray("efbfbd41")
                                                     << false;
        QTest::newRow("truncated 4-byte at the end") << QByteArray("f09f98") << "fffd" << QByteArray("efbfbd") << false;
        QTest::newRow("overlong 2-byte C0 80") << QByteArray("c080") << "fffd fffd" << QByteArray("efbfbdefbfbd")
                                               << false;
        QTest::newRow("overlong 3-byte E0 80 80") << QByteArray("e08080") << "fffd fffd fffd"
                                                  << QByteArray("efbfbdefbfbdefbfbd") << false;
        QTest::newRow("encoded surrogate ED A0 80") << QByteArray("eda080") << "fffd fffd fffd"
                                                    << QByteArray("efbfbdefbfbdefbfbd") << false;
        QTest::newRow("encoded surrogate ED BF BF") << QByteArray("edbfbf") << "fffd fffd fffd"
                                                    << QByteArray("efbfbdefbfbdefbfbd") << false;
        QTest::newRow("above U+10FFFF") << QByteArray("f4908080") << "fffd fffd fffd fffd"
                                        << QByteArray("efbfbdefbfbdefbfbdefbfbd") << false;
        QTest::newRow("lone continuation") << QByteArray("80") << "fffd" << QByteArray("efbfbd") << false;
        QTest::newRow("FF") << QByteArray("ff") << "fffd" << QByteArray("efbfbd") << false;
        // The Unicode Standard, chapter 3.9, Table 3-8: a F1 80 80 E1 80 C2 b 80 c 80 BF d.
        QTest::newRow("Table 3-8") << QByteArray("61f18080e180c262806380bf64")
                                   << "61 fffd fffd fffd 62 fffd 63 fffd fffd 64"
                                   << QByteArray("61efbfbdefbfbdefbfbd62efbfbd63efbfbdefbfbd64") << false;
    }
    void decode() {
        QFETCH(QByteArray, input);
        QFETCH(QString, cps);
        QFETCH(QByteArray, sanitized);
        QFETCH(bool, valid);
        const std::string s = bytes(input);
        QCOMPARE(code_points(utf8::decode(s)), cps);
        QCOMPARE(hex(utf8::sanitize(s)), sanitized);
        QCOMPARE(utf8::valid(s), valid);
        // The callers' own entry points are this helper: same code points, same replacement.
        QCOMPARE(code_points(eval::py::decode_utf8(s)), cps);
        QCOMPARE(hex(eval::py::sanitize_utf8(s)), sanitized);
        const std::vector<char32_t> tok_cps = tok::utf8_decode(s);
        QCOMPARE(code_points(std::u32string(tok_cps.begin(), tok_cps.end())), cps);
        QCOMPARE(hex(tok::utf8_sanitize(s)), sanitized);
        QCOMPARE(tok::utf8_valid(s), valid);
        QCOMPARE(hex(conversation::py::valid_utf8(s)), sanitized);
    }

    void decode_at_lengths() {
        // Valid: the sequence's length; ill-formed: the maximal subpart's.
        const std::string s = bytes("e282ac" "e282" "41" "f0" "9f");
        utf8::Decoded d = utf8::decode_at(s, 0);
        QVERIFY(d.valid);
        QCOMPARE(uint(d.cp), 0x20ACu);
        QCOMPARE(d.len, size_t(3));
        d = utf8::decode_at(s, 3);
        QVERIFY(!d.valid);
        QCOMPARE(uint(d.cp), 0xFFFDu);
        QCOMPARE(d.len, size_t(2));
        d = utf8::decode_at(s, 5);
        QVERIFY(d.valid);
        QCOMPARE(uint(d.cp), 0x41u);
        QCOMPARE(d.len, size_t(1));
        d = utf8::decode_at(s, 6);  // F0 9F at the end
        QVERIFY(!d.valid);
        QCOMPARE(d.len, size_t(2));
    }

    void sequence_length() {
        QCOMPARE(utf8::sequence_length(0x41), size_t(1));
        QCOMPARE(utf8::sequence_length(0xC3), size_t(2));
        QCOMPARE(utf8::sequence_length(0xE2), size_t(3));
        QCOMPARE(utf8::sequence_length(0xF0), size_t(4));
        QCOMPARE(utf8::sequence_length(0x80), size_t(1));  // a continuation byte announces nothing
        QCOMPARE(utf8::sequence_length(0xFF), size_t(1));
    }

    void truncate_data() {
        QTest::addColumn<int>("max");
        QTest::addColumn<QByteArray>("expected");  // hex prefix of 61 c3a9 e282ac f09f9880 (a é € 😀)
        QTest::newRow("0") << 0 << QByteArray("");
        QTest::newRow("1") << 1 << QByteArray("61");
        QTest::newRow("2: inside é") << 2 << QByteArray("61");
        QTest::newRow("3") << 3 << QByteArray("61c3a9");
        QTest::newRow("4: inside €") << 4 << QByteArray("61c3a9");
        QTest::newRow("5: inside €") << 5 << QByteArray("61c3a9");
        QTest::newRow("6") << 6 << QByteArray("61c3a9e282ac");
        QTest::newRow("9: inside the emoji") << 9 << QByteArray("61c3a9e282ac");
        QTest::newRow("10: all") << 10 << QByteArray("61c3a9e282acf09f9880");
        QTest::newRow("100: all") << 100 << QByteArray("61c3a9e282acf09f9880");
    }
    void truncate() {
        QFETCH(int, max);
        QFETCH(QByteArray, expected);
        const std::string s = bytes("61c3a9e282acf09f9880");
        QCOMPARE(hex(std::string(utf8::truncate(s, size_t(max)))), expected);
    }

    void boundaries() {
        const std::string s = bytes("61c3a9e282ac");
        QCOMPARE(utf8::floor_boundary(s, 0), size_t(0));
        QCOMPARE(utf8::floor_boundary(s, 2), size_t(1));
        QCOMPARE(utf8::floor_boundary(s, 5), size_t(3));
        QCOMPARE(utf8::floor_boundary(s, 99), size_t(6));
        QCOMPARE(utf8::ceil_boundary(s, 2), size_t(3));
        QCOMPARE(utf8::ceil_boundary(s, 4), size_t(6));
        QCOMPARE(utf8::ceil_boundary(s, 6), size_t(6));
        QCOMPARE(utf8::floor_boundary("", 0), size_t(0));
        // Ill-formed text: a run of continuation bytes is stepped over as far as it goes.
        QCOMPARE(utf8::floor_boundary(bytes("808080"), 2), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestUtf8)
#include "test_utf8.moc"
