// Tests for core/formats/json_stream: element boundaries and byte offsets, syntax errors with resynchronisation
// (data-driven), strict parsing equal to nlohmann's on real data, and the real truncated M-TRACE tail.
#include <QtTest>

#include <fstream>
#include <sstream>

#include "core/formats/json_stream.h"

using namespace matrix::formats;

namespace {
// "E<index>@<offset>" for elements, "S<index>@<offset>" for syntax errors.
QStringList summarize(JsonArrayReader& r, QStringList* messages = nullptr, std::vector<nlohmann::json>* values = nullptr) {
    QStringList out;
    JsonItem it;
    while (r.next(it)) {
        const bool el = it.kind == JsonItem::Kind::Element;
        out << QString("%1%2@%3").arg(el ? "E" : "S").arg(it.index).arg(it.offset);
        if (messages && !el) *messages << QString::fromStdString(it.message);
        if (values && el) values->push_back(it.value);
    }
    return out;
}
std::string read_file(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

class TestJsonStream : public QObject {
    Q_OBJECT
private slots:
    void items_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<QString>("message");  // substring of the first error message ("" when none)
        QTest::newRow("empty array") << QByteArray("[]") << QStringList{} << "";
        QTest::newRow("two elements") << QByteArray("[1, {\"a\":2}]") << QStringList{"E0@1", "E1@4"} << "";
        QTest::newRow("whitespace and BOM") << QByteArray("\xEF\xBB\xBF [\n {}\n ]\n") << QStringList{"E0@7"} << "";
        QTest::newRow("missing comma") << QByteArray("[{\"id\":1} {\"id\":2}]")
                                       << QStringList{"E0@1", "S1@10", "E1@10"} << "expected ',' or ']'";
        QTest::newRow("truncated in string") << QByteArray("[{\"a\":\"xy") << QStringList{"S0@9"}
                                             << "end of file inside a string";
        QTest::newRow("not closed") << QByteArray("[{\"a\":1}, ") << QStringList{"E0@1", "S1@10"}
                                    << "unexpected end of file";
        QTest::newRow("content after array") << QByteArray("[{\"id\":1}] x") << QStringList{"E0@1", "S1@11"}
                                             << "after the end of the array";
        QTest::newRow("bad literal then good record") << QByteArray("[{\"id\":1,\"c\":tru},{\"id\":2}]")
                                                      << QStringList{"S0@13", "E1@18"} << "invalid literal";
        QTest::newRow("not an array") << QByteArray("{\"id\":1}") << QStringList{"S0@0", "E0@0"} << "expected '['";
        // Objects one per line (JSON Lines) are reported once as "not an array" and still delivered.
        QTest::newRow("json lines") << QByteArray("{\"id\":1}\n{\"id\":2}\n") << QStringList{"S0@0", "E0@0", "E1@9"}
                                    << "expected '['";
        QTest::newRow("empty file") << QByteArray("") << QStringList{"S0@0"} << "empty file";
        QTest::newRow("invalid utf8") << QByteArray("[\"\xff\"]") << QStringList{"S0@2"} << "UTF-8";
        QTest::newRow("control char") << QByteArray("[\"a\nb\"]") << QStringList{"S0@3"} << "control character";
        QTest::newRow("bad escape") << QByteArray("[\"\\x\"]") << QStringList{"S0@3"} << "invalid escape";
        QTest::newRow("trailing comma") << QByteArray("[1,]") << QStringList{"E0@1", "S1@3"} << "expected a value";
        QTest::newRow("leading zero") << QByteArray("[01]") << QStringList{"E0@1", "S1@2"} << "expected ',' or ']'";
        QTest::newRow("deep nesting") << QByteArray(std::string(600, '[').c_str()) << QStringList{"S0@513"}
                                      << "nesting deeper than 512";
    }
    void items() {
        QFETCH(QByteArray, input);
        QFETCH(QStringList, expected);
        QFETCH(QString, message);
        auto r = JsonArrayReader::from_string(input.toStdString());
        QStringList messages;
        QCOMPARE(summarize(r, &messages), expected);
        if (!message.isEmpty()) {
            QVERIFY(!messages.isEmpty());
            QVERIFY2(messages[0].contains(message), qPrintable(messages[0]));
        } else {
            QVERIFY(messages.isEmpty());
        }
    }

    void predicate_keeps_resync_off_inner_objects() {
        const std::string text = "[{\"a\":?,\"t\":{\"k\":1}}, {\"id\":2}]";
        auto any = JsonArrayReader::from_string(text);
        std::vector<nlohmann::json> values;
        summarize(any, nullptr, &values);
        QCOMPARE(values.size(), size_t(2));
        QCOMPARE(values[0], nlohmann::json::parse("{\"k\":1}"));  // lands on the inner object
        auto shaped = JsonArrayReader::from_string(text);
        shaped.set_record_predicate([](const nlohmann::json& v) { return v.contains("id"); });
        values.clear();
        QCOMPARE(summarize(shaped, nullptr, &values), (QStringList{"S0@6", "E1@22"}));
        QCOMPARE(values[0], nlohmann::json::parse("{\"id\":2}"));
    }

    void values_equal_nlohmann_data() {
        QTest::addColumn<QByteArray>("doc");
        QTest::newRow("numbers") << QByteArray("[0, -0, 1e3, -2.5E-3, 9223372036854775807, 18446744073709551615, "
                                               "-9223372036854775808, 1.7976931348623157e308, 123456789012345678901234]");
        QTest::newRow("escapes") << QByteArray("[\"\\u00e9\\ud83d\\ude00\\n\\t\\\\\\/\\\"\", \"\xc3\xa9\xe4\xb8\xad\"]");
        QTest::newRow("nested") << QByteArray("[{\"a\":[1,{\"b\":null,\"c\":[true,false]}],\"a2\":{}}, [], [[]]]");
        QTest::newRow("duplicate keys") << QByteArray("[{\"a\":1,\"a\":2}]");
    }
    void values_equal_nlohmann() {
        QFETCH(QByteArray, doc);
        auto r = JsonArrayReader::from_string(doc.toStdString());
        std::vector<nlohmann::json> values;
        QStringList kinds = summarize(r, nullptr, &values);
        for (auto& k : kinds) QVERIFY2(k.startsWith("E"), qPrintable(k));
        QCOMPARE(nlohmann::json(values), nlohmann::json::parse(doc.toStdString()));
    }

    void real_subset_equals_nlohmann() {
        const std::string path = std::string(MATRIX_SHARED_DIR) + "/data/mtrace/mtrace-subset-60.json";
        auto expected = nlohmann::json::parse(read_file(path));
        auto r = JsonArrayReader::open_file(path);
        QVERIFY(r.ok());
        JsonItem it;
        size_t n = 0;
        int64_t last_end = 0;
        while (r->next(it)) {
            QVERIFY(it.kind == JsonItem::Kind::Element);
            QCOMPARE(it.index, int64_t(n));
            QVERIFY(it.offset > last_end);
            last_end = it.end;
            QVERIFY(it.value == expected[n]);
            ++n;
        }
        QCOMPARE(n, expected.size());
        QCOMPARE(r->position(), r->size());
    }

    // The real truncated file: starts inside a record's conversation (4 turn objects are elements of the
    // array that closes after them), then garbage, then 9 whole records, then a record cut mid-string.
    void real_truncated_tail() {
        const std::string path = std::string(MATRIX_SHARED_DIR) + "/data/mtrace/truncated-tail.json";
        auto r = JsonArrayReader::open_file(path);
        QVERIFY(r.ok());
        r->set_record_predicate([](const nlohmann::json& v) { return v.contains("id") && v.contains("conversations"); });
        QStringList messages;
        std::vector<nlohmann::json> values;
        QStringList got = summarize(*r, &messages, &values);
        QCOMPARE(got, (QStringList{"E0@6", "E1@187", "E2@797", "E3@926", "S4@1150", "E4@1612", "E5@22311",
                                   "E6@43015", "E7@83685", "E8@103039", "E9@119088", "E10@136987", "E11@153836",
                                   "E12@169721", "S13@195296"}));
        QCOMPARE(messages[0], QString("unexpected content after the end of the array"));
        QCOMPARE(messages[1], QString("unexpected end of file inside a string"));
        QStringList ids;
        for (size_t i = 4; i < values.size(); ++i) ids << QString::fromStdString(values[i]["id"].get<std::string>());
        QCOMPARE(ids, (QStringList{"laQhVGaK", "3uac3UOA", "VBC98fah", "YA27bG_Z", "RqygWvXB", "aHyPhr_g", "OvDovIfM",
                                   "T3m1oAfn", "15oHNehT"}));
        QCOMPARE(values[0]["from"], nlohmann::json("user"));
    }
};

QTEST_GUILESS_MAIN(TestJsonStream)
#include "test_json_stream.moc"
