// Tokenizer against HF `tokenizers`: every case of the fixture's tokenizer_cases.json (ids, tokens and
// decoded text exactly), special-token handling, NFC normalisation, merges in both JSON layouts, errors.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/tokenizer/regex_splitter.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode_normalize.h"

using namespace matrix;
using namespace matrix::tok;
using nlohmann::json;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

json read_json(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

QString show(const std::vector<int32_t>& v) {
    QStringList s;
    for (int32_t x : v) s << QString::number(x);
    return s.join(',');
}
}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
    std::optional<Tokenizer> m_tok;

private slots:
    void initTestCase() {
        auto t = Tokenizer::load(k_fixture + "/tiny-qwen2vl");
        QVERIFY2(t.ok(), t.ok() ? "" : t.error().to_string().c_str());
        m_tok = *t;
    }

    void hf_cases_data() {
        QTest::addColumn<int>("index");
        json cases = read_json(k_fixture + "/tokenizer_cases.json");
        QVERIFY(cases.size() >= 16);
        for (size_t i = 0; i < cases.size(); ++i)
            QTest::newRow(QString("case%1").arg(i).toUtf8().constData()) << int(i);
    }
    void hf_cases() {
        QFETCH(int, index);
        json c = read_json(k_fixture + "/tokenizer_cases.json")[size_t(index)];
        std::string text = c["text"];
        std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> got = m_tok->encode(text);
        QCOMPARE(show(got), show(want));
        QCOMPARE(m_tok->ids_to_tokens(got), c["tokens"].get<std::vector<std::string>>());
        QCOMPARE(m_tok->decode(got), c["decoded"].get<std::string>());
    }

    void special_ids() {
        json sp = read_json(k_fixture + "/tiny-qwen2vl/special_ids.json")["specials"];
        for (auto it = sp.begin(); it != sp.end(); ++it) {
            QCOMPARE(m_tok->token_to_id(it.key()).value_or(-1), it.value().get<int32_t>());
            QVERIFY(m_tok->is_special(it.value().get<int32_t>()));
            QCOMPARE(m_tok->id_to_token(it.value().get<int32_t>()), it.key());
        }
        const SpecialIds& s = m_tok->special_ids();
        QCOMPARE(s.endoftext, 1800);
        QCOMPARE(s.im_start, 1801);
        QCOMPARE(s.im_end, 1802);
        QCOMPARE(s.vision_start, 1809);
        QCOMPARE(s.vision_end, 1810);
        QCOMPARE(s.image_pad, 1812);
        QCOMPARE(s.video_pad, 1813);
        QCOMPARE(m_tok->vocab_size(), 1814);
        QVERIFY(!m_tok->token_to_id("<|no_such|>"));
        QCOMPARE(m_tok->id_to_token(99999), std::string());
    }

    void special_tokens_as_text() {
        // allow_special=false: "<|im_end|>" is ordinary text and never yields the special id.
        auto ids = m_tok->encode("a<|im_end|>b", false);
        QVERIFY(std::find(ids.begin(), ids.end(), 1802) == ids.end());
        QCOMPARE(m_tok->decode(ids), std::string("a<|im_end|>b"));
        auto with = m_tok->encode("a<|im_end|>b", true);
        QCOMPARE(with.size(), size_t(3));
        QCOMPARE(with[1], 1802);
    }

    void skip_special_on_decode() {
        auto ids = m_tok->encode("<|im_start|>user\nhi<|im_end|>\n");
        QCOMPARE(m_tok->decode(ids, true), std::string("user\nhi\n"));
        QCOMPARE(m_tok->decode(ids, false), std::string("<|im_start|>user\nhi<|im_end|>\n"));
    }

    void invalid_utf8_decodes_to_replacement() {
        // A lone byte 0xE6 (first byte of a CJK character) decodes to U+FFFD, like from_utf8_lossy.
        auto ids = m_tok->encode("数");
        QCOMPARE(ids.size(), size_t(3));
        QCOMPARE(m_tok->decode({ids[0]}), std::string("\xEF\xBF\xBD"));
        StreamDecoder sd(*m_tok);
        QCOMPARE(sd.push(ids[0]), std::string());
        QCOMPARE(sd.push(ids[1]), std::string());
        QCOMPARE(sd.push(ids[2]), std::string("数"));
        QCOMPARE(sd.flush(), std::string());
    }

    void nfc_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("e+acute") << QString::fromUtf8("e\xCC\x81") << QString::fromUtf8("\xC3\xA9");
        QTest::newRow("already composed") << QString::fromUtf8("caf\xC3\xA9") << QString::fromUtf8("caf\xC3\xA9");
        // Reordering: dot below (220) sorts before dot above (230); then q has no composite, s does.
        QTest::newRow("s+dot above+dot below") << QString::fromUtf8("s\xCC\x87\xCC\xA3")
                                               << QString::fromUtf8("\xE1\xB9\xA9");
        QTest::newRow("hangul jamo") << QString::fromUtf8("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB")
                                     << QString::fromUtf8("\xED\x95\x9C");
        QTest::newRow("hangul LV+T") << QString::fromUtf8("\xED\x95\x98\xE1\x86\xAB") << QString::fromUtf8("\xED\x95\x9C");
        // Composition exclusion: U+0958 decomposes and is never recomposed.
        QTest::newRow("exclusion") << QString::fromUtf8("\xE0\xA5\x98") << QString::fromUtf8("\xE0\xA4\x95\xE0\xA4\xBC");
        // Singleton: OHM SIGN -> GREEK CAPITAL OMEGA.
        QTest::newRow("singleton") << QString::fromUtf8("\xE2\x84\xA6") << QString::fromUtf8("\xCE\xA9");
        // Blocked: a second acute after the composed one stays separate.
        QTest::newRow("blocked") << QString::fromUtf8("e\xCC\x81\xCC\x81") << QString::fromUtf8("\xC3\xA9\xCC\x81");
        QTest::newRow("ascii") << "plain ascii" << "plain ascii";
    }
    void nfc() {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        std::string got = tok::nfc(input.toStdString());
        QCOMPARE(QString::fromStdString(got), expected);
        // Qt's own normaliser (ICU-free in QtCore) agrees; core does not use it, the test may.
        QCOMPARE(QString::fromStdString(got), input.normalized(QString::NormalizationForm_C));
        QCOMPARE(QString::fromStdString(tok::nfd(input.toStdString())), input.normalized(QString::NormalizationForm_D));
    }

    void nfc_matches_qt_on_a_wide_sample() {
        // Every BMP code point followed by a combining acute and a cedilla: NFC equal to Qt's.
        int mismatches = 0;
        for (char32_t cp = 0x20; cp < 0x10000; cp += 1) {
            if (cp >= 0xD800 && cp < 0xE000) continue;
            std::string s;
            utf8_append(s, cp);
            s += "\xCC\x81\xCC\xA7";
            QString q = QString::fromStdString(s);
            if (QString::fromStdString(tok::nfc(s)) != q.normalized(QString::NormalizationForm_C)) {
                if (++mismatches < 5) qWarning("mismatch at U+%04X", unsigned(cp));
            }
        }
        // Qt 6.4 ships Unicode 14 data, like the generated tables.
        QCOMPARE(mismatches, 0);
        QCOMPARE(std::string(unicode_tables_version()), std::string("14.0.0"));
    }

    void merges_as_strings_equal_merges_as_pairs() {
        json j = read_json(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        QVERIFY(j["model"]["merges"][0].is_array());
        json strs = json::array();
        for (const json& m : j["model"]["merges"]) strs.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        j["model"]["merges"] = strs;
        auto t = Tokenizer::from_json(j.dump());
        QVERIFY2(t.ok(), t.ok() ? "" : t.error().to_string().c_str());
        json cases = read_json(k_fixture + "/tokenizer_cases.json");
        for (const json& c : cases)
            QCOMPARE(show(t->encode(c["text"].get<std::string>())), show(c["ids"].get<std::vector<int32_t>>()));
    }

    void added_token_flags() {
        json j = read_json(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        j["added_tokens"].push_back({{"id", 1814}, {"content", "<tool>"}, {"single_word", false}, {"lstrip", true},
                                     {"rstrip", true}, {"normalized", false}, {"special", false}});
        j["added_tokens"].push_back({{"id", 1815}, {"content", "zz"}, {"single_word", true}, {"lstrip", false},
                                     {"rstrip", false}, {"normalized", true}, {"special", false}});
        auto t = Tokenizer::from_json(j.dump());
        QVERIFY(t.ok());
        // lstrip/rstrip: the spaces around <tool> are absorbed by it.
        auto ids = t->encode("a  <tool>  b");
        QCOMPARE(show(ids), show({t->encode("a")[0], 1814, t->encode("b")[0]}));
        // non-special added tokens are still matched with allow_special=false, and kept by skip_special.
        QCOMPARE(t->encode("<tool>", false), std::vector<int32_t>{1814});
        QCOMPARE(t->decode({1814}, true), std::string("<tool>"));
        // single_word: "zz" inside a word is not the added token.
        QCOMPARE(t->encode("zz"), std::vector<int32_t>{1815});
        auto inside = t->encode("azzb");
        QVERIFY(std::find(inside.begin(), inside.end(), 1815) == inside.end());
    }

    void errors() {
        auto missing = Tokenizer::load("/nonexistent/dir");
        QVERIFY(!missing.ok());
        QVERIFY(missing.error().to_string().find("/nonexistent/dir") != std::string::npos);
        auto bad = Tokenizer::from_json("{\"model\": 3}");
        QVERIFY(!bad.ok());
        json j = read_json(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        j["model"]["merges"].push_back(json::array({"nope", "zzz"}));
        auto badmerge = Tokenizer::from_json(j.dump());
        QVERIFY(!badmerge.ok());
        QVERIFY(badmerge.error().message.find("missing from the vocab") != std::string::npos);
        j = read_json(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        j["normalizer"] = {{"type", "NFKC"}};
        QVERIFY(!Tokenizer::from_json(j.dump()).ok());
    }

    void round_trip_on_real_mtrace_text() {
        // Byte-level BPE loses nothing: decode(encode(x)) == NFC(x) for every turn of the 60 real
        // trajectories (system prompts, tasks, code, observations, Chinese text).
        json data = read_json(std::string(MATRIX_SHARED_DIR) + "/data/mtrace/mtrace-subset-60.json");
        size_t n = 0, tokens = 0;
        for (const json& rec : data)
            for (const json& turn : rec["conversations"]) {
                std::string text = turn["value"];
                auto ids = m_tok->encode(text);
                tokens += ids.size();
                if (m_tok->decode(ids) != tok::nfc(text)) QFAIL(qPrintable(QString("round trip failed: record %1").arg(QString::fromStdString(rec["id"]))));
                ++n;
            }
        QVERIFY(n > 300);
        QVERIFY(tokens > 200000);
    }

    void fuzz_regressions_data() {
        QTest::addColumn<QByteArray>("input");
        // Found by fuzz/fuzz_tokenizer: a stray continuation byte took NFC's ASCII fast path unsanitised.
        QTest::newRow("stray continuation byte") << QByteArray("\x87\n", 2);
        QTest::newRow("truncated 3-byte") << QByteArray("ab\xE6\x95", 4);
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80x", 4);
        QTest::newRow("special fragment") << QByteArray("<|im_<|im_end|>end|>");
        QTest::newRow("mark first") << QByteArray("\xCC\x81" "a\xCC\x81");
    }
    void fuzz_regressions() {
        QFETCH(QByteArray, input);
        std::string s = input.toStdString();
        std::string want = tok::nfc(s);
        QCOMPARE(tok::nfc(want), want);
        QCOMPARE(m_tok->decode(m_tok->encode(s)), want);
        QCOMPARE(m_tok->decode(m_tok->encode(s, false)), want);
    }

    void pretokenizer_regex_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("pieces");
        QTest::newRow("words") << "Hello  world\n\nx" << QStringList{"Hello", " ", " world", "\n\n", "x"};
        QTest::newRow("contractions") << "I'M we'll" << QStringList{"I", "'M", " we", "'ll"};
        QTest::newRow("digits one by one") << "x123" << QStringList{"x", "1", "2", "3"};
        QTest::newRow("punct + newline") << "a.)\n b" << QStringList{"a", ".)\n", " b"};
        QTest::newRow("trailing spaces") << "a   " << QStringList{"a", "   "};
        QTest::newRow("ideographic space") << QString::fromUtf8("a\xE3\x80\x80" "b")
                                           << QStringList{"a", QString::fromUtf8("\xE3\x80\x80" "b")};
        // U+180E is not whitespace for Oniguruma (HF) although PCRE2's UCP \s includes it.
        QTest::newRow("mongolian vowel separator") << QString::fromUtf8("\xE1\xA0\x8E!")
                                                   << QStringList{QString::fromUtf8("\xE1\xA0\x8E!")};
    }
    void pretokenizer_regex() {
        QFETCH(QString, text);
        QFETCH(QStringList, pieces);
        auto sp = RegexSplitter::create(k_qwen2_pattern);
        QVERIFY(sp.ok());
        QVERIFY(sp->jit() || true);  // JIT is optional (not all PCRE2 builds have it)
        std::string s = text.toStdString();
        std::vector<std::string_view> out;
        sp->split(s, out);
        QStringList got;
        for (auto v : out) got << QString::fromStdString(std::string(v));
        QCOMPARE(got, pieces);
    }

    void concurrent_encode() {
        // encode/decode from several threads share the BPE cache (locked); results equal the serial ones.
        json cases = read_json(k_fixture + "/tokenizer_cases.json");
        Tokenizer fresh = *Tokenizer::load(k_fixture + "/tiny-qwen2vl");
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int round = 0; round < 50; ++round)
                    for (size_t i = 0; i < cases.size(); ++i) {
                        const json& c = cases[(i + size_t(t)) % cases.size()];
                        auto ids = fresh.encode(c["text"].get<std::string>());
                        if (ids != c["ids"].get<std::vector<int32_t>>() || fresh.decode(ids) != c["decoded"].get<std::string>())
                            ++failures;
                    }
            });
        for (auto& th : threads) th.join();
        QCOMPARE(failures.load(), 0);
    }

    void bpe_long_word_and_cache() {
        // A long run without pre-token boundaries goes through the heap merge (not cached).
        std::string long_word(5000, 'a');
        auto ids = m_tok->encode(long_word);
        QCOMPARE(m_tok->decode(ids), long_word);
        std::string text = "the theory of the thing, the end";
        QCOMPARE(m_tok->encode(text), m_tok->encode(text));  // second call served from the cache
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
