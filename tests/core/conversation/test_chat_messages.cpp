// The MATRIX agent conversation as chat messages (core/conversation/chat_messages.h), encoded with the tiny
// fixture tokenizer: trained tokens are exactly the actions; the next-step prompt; role alternation; turns
// from stored steps; Pref-X history messages with image parts.
#include <QtTest>

#include <algorithm>

#include "core/conversation/chat_messages.h"
#include "core/conversation/observation.h"
#include "core/conversation/steps.h"

using namespace matrix;
using namespace matrix::tok;
using namespace matrix::conversation;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

std::string text_of(const ChatMessage& m) {
    std::string out;
    for (const ContentPart& p : m.content)
        out += p.kind == ContentPart::Kind::Text ? p.text : "<img:" + std::to_string(p.n_pad_tokens) + ">";
    return out;
}
}  // namespace

class TestChatMessages : public QObject {
    Q_OBJECT
    std::optional<Tokenizer> m_tok;

private slots:
    void initTestCase() {
        auto t = Tokenizer::load(k_fixture + "/tiny-qwen2vl/tokenizer.json");
        QVERIFY(t.ok());
        m_tok = *t;
    }

    void agent_conversation() {
        AgentConversation c;
        c.system = "You are an agent. Use tools.";
        c.image_pad_counts = {24, 6};
        c.task = "Task: How many objects are in the two pictures?";
        c.turns.push_back(ChatMessage::make("assistant", "Thought: count.\nCode:\n```py\nprint(2)\n```<end_action>"));
        c.turns.push_back(ChatMessage::make("user", render_observation(0, "2\n")));
        c.turns.push_back(ChatMessage::make("assistant", "Thought: done.\nCode:\n```py\nfinal_answer(2)\n```<end_action>"));
        auto enc = encode_agent_conversation(*m_tok, c);
        QVERIFY2(enc.ok(), enc.ok() ? "" : enc.error().to_string().c_str());
        QCOMPARE(render_observation(0, "2\n"), std::string("[OUTPUT OF STEP 0] Observation:\n2\n"));
        QCOMPARE(render_observation(3, "boom", true), std::string("[OUTPUT OF STEP 3] Error: boom"));
        QCOMPARE(enc->n_images, int64_t(2));
        QCOMPARE(int(std::count(enc->ids.begin(), enc->ids.end(), m_tok->special_ids().image_pad)), 30);
        // The masked tokens decode to exactly the two actions, each closed by <|im_end|>\n.
        std::vector<int32_t> trained;
        for (size_t i = 0; i < enc->ids.size(); ++i)
            if (enc->assistant_mask[i]) trained.push_back(enc->ids[i]);
        QCOMPARE(m_tok->decode(trained), c.turns[0].content[0].text + "<|im_end|>\n" + c.turns[2].content[0].text +
                                             "<|im_end|>\n");
        // The whole text tokenized at once gives the same ids (no whitespace at segment boundaries here).
        QCOMPARE(m_tok->encode(enc->text), enc->ids);
        QVERIFY(enc->text.find("<|im_start|>user\n[OUTPUT OF STEP 0] Observation:\n2\n<|im_end|>\n<|im_start|>assistant\n") !=
                std::string::npos);

        // Next-step prompt: ends with the assistant header, nothing trained.
        c.turns.pop_back();
        c.add_generation_prompt = true;
        auto prompt = encode_agent_conversation(*m_tok, c);
        QVERIFY(prompt.ok());
        QVERIFY(prompt->text.size() > 22 && prompt->text.substr(prompt->text.size() - 22) == "<|im_start|>assistant\n");

        // Turns must alternate.
        c.turns.push_back(ChatMessage::make("user", "again"));
        auto bad = encode_agent_conversation(*m_tok, c);
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().message.find("turn 2") != std::string::npos);
    }

    // Steps -> turns: stored actions verbatim (else rendered from thought + code), observation turns between
    // steps (canonical, verbatim raw, or an empty one when missing), none after the last step; `first` drops
    // the oldest steps but keeps their step numbers.
    void steps_to_turns() {
        std::vector<store::Step> steps(4);
        for (int i = 0; i < 4; ++i) steps[size_t(i)].idx = i;
        steps[0].action = "Thought: a\n\nCode:\n```py\nprint(1)\n```";
        steps[0].observation = "1\n";
        steps[1].thought = "b";
        steps[1].code = "x = 1";
        steps[1].observation = "boom";
        steps[1].is_error = true;
        steps[2].action = "Thought: c";
        steps[2].observation = "ignored";
        steps[2].observation_raw = "[OUTPUT OF STEP 2]  Observation:\nraw";
        steps[3].action = "Thought: d\n\nCode:\n```py\nfinal_answer(1)\n```";
        steps[3].observation = "never shown";
        const auto turns = step_turns(steps);
        std::vector<std::string> roles, texts;
        for (const auto& t : turns) {
            roles.push_back(t.role);
            texts.push_back(text_of(t));
        }
        QCOMPARE(roles, (std::vector<std::string>{"assistant", "user", "assistant", "user", "assistant", "user",
                                                  "assistant"}));
        QCOMPARE(texts, (std::vector<std::string>{*steps[0].action, "[OUTPUT OF STEP 0] Observation:\n1\n",
                                                  "Thought: b\n\nCode:\n```py\nx = 1\n```",
                                                  "[OUTPUT OF STEP 1] Error: boom", "Thought: c",
                                                  "[OUTPUT OF STEP 2]  Observation:\nraw", *steps[3].action}));
        steps[1].observation.reset();
        steps[1].is_error = false;
        const auto tail = step_turns(steps, 1);
        QCOMPARE(tail.size(), size_t(5));
        QCOMPARE(text_of(tail[0]), std::string("Thought: b\n\nCode:\n```py\nx = 1\n```"));
        QCOMPARE(text_of(tail[1]), std::string("[OUTPUT OF STEP 1] Observation:\n"));
        QCOMPARE(step_turns(steps, 4).size(), size_t(0));
    }

    // Pref-X history -> messages: roles, <image> placeholders in place, oldest pairs dropped after the task.
    void prefx_history() {
        const nlohmann::json history = {{{"from", "human"}, {"value", "<image>\n<image>\nTask: compare"}},
                                        {{"from", "gpt"}, {"value", "A0<end_action>"}},
                                        {{"from", "human"}, {"value", "O0"}},
                                        {{"from", "gpt"}, {"value", "A1<end_action>"}},
                                        {{"from", "human"}, {"value", "O1"}}};
        auto msgs = prefx_history_messages("SYS", history, 0, {4, 6});
        QCOMPARE(msgs.size(), size_t(6));
        QCOMPARE(msgs[0].role, std::string("system"));
        QCOMPARE(msgs[1].role, std::string("user"));
        QCOMPARE(text_of(msgs[1]), std::string("<img:4>\n<img:6>\nTask: compare"));
        QCOMPARE(msgs[2].role, std::string("assistant"));
        QCOMPARE(text_of(msgs[5]), std::string("O1"));
        msgs = prefx_history_messages("", history, 1, {4, 6});
        QCOMPARE(msgs.size(), size_t(3));
        QCOMPARE(msgs[0].role, std::string("user"));
        QCOMPARE(text_of(msgs[1]), std::string("A1<end_action>"));
        QCOMPARE(text_of(msgs[2]), std::string("O1"));
    }
};

QTEST_GUILESS_MAIN(TestChatMessages)
#include "test_chat_messages.moc"
