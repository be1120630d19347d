// PEFT adapter_config.json as users bring it: the fixture's file (written by PEFT) reads with its exact values;
// each malformed field is refused with the file, the field and the reason in one line (never the JSON library's
// exception text), and read_peft_adapter passes that error on instead of loading a rank-0 or NaN-scaled adapter.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/training/adapter_config.h"
#include "core/training/adapter_io.h"
#include "core/util/json_input.h"

// Qt after torch: Qt's `slots` macro breaks torch headers included later.
#include <QtTest>

using namespace matrix;
using namespace matrix::train;
using nlohmann::json;

namespace {
const std::string k_adapter_dir = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/peft-adapter";

QString error_of(const std::string& text) {
    auto r = parse_peft_adapter_config(text, "a/adapter_config.json");
    return QString::fromStdString(r.ok() ? "ok" : r.error().to_string());
}

json fixture() {
    auto text = read_regular_file(k_adapter_dir + "/adapter_config.json");
    return json::parse(*text);
}
}  // namespace

class TestAdapterConfig : public QObject {
    Q_OBJECT
private slots:
    void fixture_reads_exactly() {
        const json f = fixture();
        auto r = parse_peft_adapter_config(f.dump(), "adapter_config.json");
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QCOMPARE(r->r, f["r"].get<int>());
        QCOMPARE(r->lora_alpha, f["lora_alpha"].get<double>());
        QCOMPARE(r->lora_dropout, f["lora_dropout"].get<double>());
        auto targets = f["target_modules"].is_string() ? std::vector<std::string>{f["target_modules"].get<std::string>()}
                                                        : f["target_modules"].get<std::vector<std::string>>();
        QCOMPARE(r->target_modules, targets);
    }

    void malformed_fields_are_named() {
        json c = fixture();
        c["r"] = 0;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'r' is 0, a LoRA rank must be 1..65536"));
        c["r"] = "8";
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'r' must be a whole number, but is string"));
        c["r"] = 8.5;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'r' must be a whole number, but is number"));
        c["r"] = 100000000;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'r' is 100000000, a LoRA rank must be 1..65536"));
        c = fixture();
        c.erase("r");
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'r' (the LoRA rank) is missing"));
        c = fixture();
        c["lora_alpha"] = -16;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'lora_alpha' is -16, it must be a positive number"));
        c["lora_alpha"] = nullptr;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'lora_alpha' must be a number, but is null"));
        c = fixture();
        c["lora_dropout"] = 1.5;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'lora_dropout' is 1.5, it must be in [0, 1)"));
        c = fixture();
        c["target_modules"] = json::array({"q_proj", 3});
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'target_modules[1]' must be a string, but is number"));
        c["target_modules"] = 7;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'target_modules' must be a list of module "
                                                 "names or one name, but is number"));
        c = fixture();
        c["peft_type"] = "IA3";
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: peft_type is IA3, only LORA adapters are supported"));
        c = fixture();
        c["use_dora"] = true;
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: DoRA adapters (use_dora: true) are not supported"));
        c["use_dora"] = "yes";
        QCOMPARE(error_of(c.dump()), QString("a/adapter_config.json: field 'use_dora' must be true or false, but is string"));
        QCOMPARE(error_of("[1, 2]"), QString("a/adapter_config.json: expected a JSON object, found array"));
        QCOMPARE(error_of("{\"r\": 8,"), QString("a/adapter_config.json: JSON syntax error at byte 9: syntax error while parsing object key - "
                         "unexpected end of input; expected string literal"));
    }

    void reader_refuses_bad_config() {
        const std::filesystem::path dir = std::filesystem::temp_directory_path() / "matrix_test_adapter_config";
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(k_adapter_dir + "/adapter_model.safetensors", dir / "adapter_model.safetensors");
        json c = fixture();
        c["r"] = 0;
        std::ofstream(dir / "adapter_config.json") << c.dump();
        auto r = read_peft_adapter(dir.string());
        QVERIFY(!r.ok());
        QCOMPARE(QString::fromStdString(r.error().to_string()), QString::fromStdString((dir / "adapter_config.json").string() +
                                            ": field 'r' is 0, a LoRA rank must be 1..65536"));
        c = fixture();
        std::ofstream(dir / "adapter_config.json", std::ios::trunc) << c.dump();
        auto good = read_peft_adapter(dir.string());
        QVERIFY2(good.ok(), good.ok() ? "" : good.error().to_string().c_str());
        QVERIFY(!good->empty());
        QCOMPARE(good->front().a.size(0), int64_t{c["r"].get<int>()});
        std::filesystem::remove_all(dir);
    }
};

QTEST_APPLESS_MAIN(TestAdapterConfig)
#include "test_adapter_config.moc"
