// Chat template and SFT encoding against the HF fixture: the case-1 prompt (two images) renders to
// reference.json's prompt1 and encodes to case1.input_ids; prompt + SFT response gives case3.input_ids with
// the assistant mask equal to case3.labels != -100; DPO responses round-trip. (Agent conversations:
// tests/core/conversation/test_chat_messages.cpp.)
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/tokenizer/chat_template.h"
#include "core/util/safetensors.h"

using namespace matrix;
using namespace matrix::tok;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

std::vector<int32_t> ids_of(const SafetensorsFile& f, const std::string& name, int64_t begin = 0, int64_t end = -1) {
    const TensorView* t = f.find(name);
    if (!t || t->dtype != DType::I64) return {};
    const int64_t* p = reinterpret_cast<const int64_t*>(t->data);
    if (end < 0) end = t->numel();
    return std::vector<int32_t>(p + begin, p + end);
}

std::array<int64_t, 3> grid_of(const SafetensorsFile& f, const std::string& name) {
    const int64_t* p = reinterpret_cast<const int64_t*>(f.find(name)->data);
    return {p[0], p[1], p[2]};
}
}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT
    std::optional<Tokenizer> m_tok;
    std::shared_ptr<SafetensorsFile> m_ref;
    nlohmann::json m_json;

    std::vector<ChatMessage> case1_messages() {
        ChatMessage user{"user", {}};
        user.content.push_back(ContentPart::make_image(grid_of(*m_ref, "grid_thw.img_a.png")));
        user.content.push_back(ContentPart::make_image(grid_of(*m_ref, "grid_thw.img_b.png")));
        user.content.push_back(
            ContentPart::make_text("Task: How many objects are in the two pictures?\nAttachment: img_a.png; img_b.png"));
        return {user};
    }

private slots:
    void initTestCase() {
        auto t = Tokenizer::load(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        QVERIFY(t.ok());
        m_tok = *t;
        auto f = SafetensorsFile::open(k_fixture + "/reference.safetensors");
        QVERIFY(f.ok());
        m_ref = *f;
        std::ifstream in(k_fixture + "/reference.json");
        m_json = nlohmann::json::parse(in);
    }

    void pad_counts() {
        QCOMPARE(image_pad_count({1, 8, 12}), int64_t(24));
        QCOMPARE(image_pad_count({1, 6, 4}), int64_t(6));
        QCOMPARE(image_pad_count({1, 18, 24}), int64_t(108));
    }

    void case1_prompt_text_and_ids() {
        std::string text = render_chat(case1_messages());
        QCOMPARE(text, m_json["prompt1"].get<std::string>());
        auto enc = encode_chat(*m_tok, case1_messages());
        QVERIFY(enc.ok());
        QCOMPARE(enc->ids, ids_of(*m_ref, "case1.input_ids"));
        QCOMPARE(m_tok->encode(text), ids_of(*m_ref, "case1.input_ids"));
        QCOMPARE(enc->n_images, int64_t(2));
        QVERIFY(std::all_of(enc->assistant_mask.begin(), enc->assistant_mask.end(), [](uint8_t m) { return m == 0; }));
    }

    void explicit_system_replaces_default() {
        auto msgs = case1_messages();
        msgs.insert(msgs.begin(), ChatMessage::make("system", "You are a helpful assistant."));
        QCOMPARE(render_chat(msgs), m_json["prompt1"].get<std::string>());
        msgs[0] = ChatMessage::make("system", "Agent rules.");
        QVERIFY(render_chat(msgs).rfind("<|im_start|>system\nAgent rules.<|im_end|>\n<|im_start|>user\n", 0) == 0);
        ChatTemplateOptions no_default;
        no_default.default_system = "";
        no_default.add_generation_prompt = false;
        QCOMPARE(render_chat({ChatMessage::make("user", "hi")}, no_default), std::string("<|im_start|>user\nhi<|im_end|>\n"));
    }

    void vision_ids_option() {
        ChatTemplateOptions opt;
        opt.add_vision_id = true;
        std::string text = render_chat(case1_messages(), opt);
        QVERIFY(text.find("Picture 1: <|vision_start|>") != std::string::npos);
        QVERIFY(text.find("<|vision_end|>Picture 2: <|vision_start|>") != std::string::npos);
    }

    void sft_ids_and_mask_equal_case3() {
        std::string response = m_json["sft_response"];
        const std::string tail = "<|im_end|>\n";
        QVERIFY(response.size() > tail.size() && response.compare(response.size() - tail.size(), tail.size(), tail) == 0);
        auto msgs = case1_messages();
        msgs.push_back(ChatMessage::make("assistant", response.substr(0, response.size() - tail.size())));
        ChatTemplateOptions opt;
        opt.add_generation_prompt = false;
        auto enc = encode_chat(*m_tok, msgs, opt);
        QVERIFY(enc.ok());
        std::vector<int32_t> want = ids_of(*m_ref, "case3.input_ids");
        QCOMPARE(enc->ids, want);
        std::vector<int32_t> labels = ids_of(*m_ref, "case3.labels");
        QCOMPARE(enc->assistant_mask.size(), labels.size());
        for (size_t i = 0; i < labels.size(); ++i) QCOMPARE(int(enc->assistant_mask[i]), labels[i] == -100 ? 0 : 1);
        // The labelled part ends with <|im_end|> and the "\n" after it (LLaMA-Factory behaviour).
        QCOMPARE(enc->ids[enc->ids.size() - 2], m_tok->special_ids().im_end);
        QCOMPARE(m_tok->decode({enc->ids.back()}), std::string("\n"));
        QCOMPARE(int(enc->assistant_mask.back()), 1);
        QCOMPARE(enc->text, m_json["prompt1"].get<std::string>() + response);
    }

    void dpo_responses_round_trip() {
        std::vector<int32_t> prompt = ids_of(*m_ref, "case1.input_ids");
        for (const char* name : {"dpo.chosen_ids", "dpo.rejected_ids"}) {
            std::vector<int32_t> all = ids_of(*m_ref, name);
            QVERIFY(std::equal(prompt.begin(), prompt.end(), all.begin()));
            std::vector<int32_t> resp(all.begin() + 90, all.end());
            std::string text = m_tok->decode(resp);
            QCOMPARE(encode_response(*m_tok, text, false), resp);
            auto closed = encode_response(*m_tok, text, true);
            QCOMPARE(closed.size(), resp.size() + 2);
            QCOMPARE(closed[resp.size()], m_tok->special_ids().im_end);
        }
    }

    void case2_text_only_prompt() {
        // case2 row 0 is a text-only user turn without a system message, right padded with <|endoftext|>.
        std::vector<int32_t> row = ids_of(*m_ref, "case2.input_ids", 0, 28);
        std::vector<int32_t> mask = ids_of(*m_ref, "case2.attention_mask", 0, 28);
        size_t n = size_t(std::count(mask.begin(), mask.end(), 1));
        row.resize(n);
        std::string text = m_tok->decode(row);
        QVERIFY(text.rfind("<|im_start|>user\n", 0) == 0);
        size_t a = text.find('\n') + 1, b = text.find("<|im_end|>");
        ChatTemplateOptions opt;
        opt.default_system = "";
        auto enc = encode_chat(*m_tok, {ChatMessage::make("user", text.substr(a, b - a))}, opt);
        QVERIFY(enc.ok());
        QCOMPARE(enc->ids, row);
    }
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
