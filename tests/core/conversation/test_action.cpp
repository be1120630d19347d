// Tests for the action parser (core/conversation/action.h) and its Python lexer/literal reader:
// - every assistant turn of the real M-TRACE subset against tests/core/conversation/data/mtrace60_actions.json,
//   which gen_mtrace60_actions.py computed independently with Python's ast module (code, flags, tool calls
//   with their JSON arguments), plus the exact tool-call histogram and the 8 real turns without code;
// - the known tools against GTA's dataset.json and the M-TRACE system prompt's tool list; hand-written tricky
//   cases (strings, f-strings, literals, nesting, errors). Observation turns: test_observation.cpp.
#include <QtTest>

#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/python_lexer.h"
#include "core/conversation/python_literal.h"
#include "parser_cases.h"

using namespace matrix::conversation;
using nlohmann::json;

namespace {

json load(const std::string& path) {
    std::ifstream f(path);
    return json::parse(f);
}
const json& mtrace() {
    static const json d = load(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
    return d;
}
const json& expected_actions() {
    static const json d = load(MATRIX_SOURCE_DIR "/tests/core/conversation/data/mtrace60_actions.json");
    return d;
}

json calls_json(const std::vector<ToolCall>& calls) {
    json out = json::array();
    for (const ToolCall& c : calls) out.push_back({{"name", c.name}, {"known", c.known}, {"arguments", c.arguments}});
    return out;
}

std::string action(const std::string& code) { return "Thought: test.\n\nCode:\n```py\n" + code + "\n```<end_action>"; }

}  // namespace

class TestAction : public QObject {
    Q_OBJECT
private slots:
    // ---- real data ---------------------------------------------------------------------------------------
    void mtrace_assistant_turns_match_python_ast() {
        const json& exp = expected_actions();
        size_t i = 0, turns = 0, with_code = 0, with_both = 0;
        for (size_t r = 0; r < mtrace().size(); ++r) {
            const json& conv = mtrace()[r]["conversations"];
            for (size_t t = 0; t < conv.size(); ++t) {
                if (conv[t]["from"] != "assistant") continue;
                ++turns;
                QVERIFY(i < exp.size());
                const json& e = exp[i++];
                QCOMPARE(e["record"].get<size_t>(), r);
                QCOMPARE(e["turn"].get<size_t>(), t);
                const std::string where = "record " + std::to_string(r) + " turn " + std::to_string(t);
                const ParsedAction a = parse_action(conv[t]["value"].get<std::string>());
                QVERIFY2(a.has_thought == e["has_thought"].get<bool>(), where.c_str());
                QVERIFY2(a.has_code == e["has_code"].get<bool>(), where.c_str());
                if (a.has_code) {
                    ++with_code;
                    QVERIFY2(a.code == e["code"].get<std::string>(), where.c_str());
                    QVERIFY2(a.code_parses, (where + ": " + a.code_error).c_str());
                    QVERIFY2(a.code_fence_closed && a.has_code_label && a.code_language == "py" && a.code_blocks == 1,
                             where.c_str());
                    const std::string raw = conv[t]["value"].get<std::string>();
                    QVERIFY2(raw.compare(a.code_offset, a.code.size(), a.code) == 0, where.c_str());
                }
                if (a.has_code && a.has_thought) {
                    ++with_both;
                    QVERIFY2(!a.thought.empty() && a.well_formed(), where.c_str());
                }
                const json got = calls_json(a.tool_calls);
                QVERIFY2(got == e["tool_calls"], (where + "\n got: " + got.dump() + "\nwant: " + e["tool_calls"].dump()).c_str());
                // final_answer: the first final_answer call's argument.
                std::optional<json> fa;
                bool is_final = false;
                for (const json& c : e["tool_calls"])
                    if (c["name"] == "final_answer") {
                        is_final = true;
                        if (c["arguments"].contains("answer")) fa = c["arguments"]["answer"];
                        break;
                    }
                QVERIFY2(a.is_final == is_final, where.c_str());
                QVERIFY2(a.final_answer == fa, where.c_str());
                QVERIFY2(!a.has_end_action, where.c_str());  // spec: no <end_action> suffix in this data
            }
        }
        QCOMPARE(i, exp.size());
        QCOMPARE(turns, size_t(165));
        QCOMPARE(with_code, size_t(157));
        QCOMPARE(with_both, size_t(155));
    }

    // Histogram of tool calls over the whole file, verified independently with Python's ast and with a
    // plain regex over the code blocks (both give these numbers; the regex also sees `timedelta`, which the
    // block imports from datetime, so it is not a tool call).
    void mtrace_tool_call_histogram() {
        std::map<std::string, int> hist;
        int finals = 0;
        for (const json& rec : mtrace()) {
            const json& conv = rec["conversations"];
            size_t last_assistant = 0;
            for (size_t t = 0; t < conv.size(); ++t)
                if (conv[t]["from"] == "assistant") last_assistant = t;
            for (size_t t = 0; t < conv.size(); ++t) {
                if (conv[t]["from"] != "assistant") continue;
                const ParsedAction a = parse_action(conv[t]["value"].get<std::string>());
                for (const ToolCall& c : a.tool_calls) {
                    ++hist[c.name];
                    QVERIFY(c.known);
                }
                if (a.is_final) {
                    ++finals;
                    QCOMPARE(t, last_assistant);  // each record ends with its final_answer call
                }
            }
        }
        const std::map<std::string, int> want = {{"final_answer", 60}, {"ask_search_agent", 28}, {"visualizer", 27},
                                                 {"objectlocation", 7}, {"image_generator", 6}, {"facedetection", 3},
                                                 {"segmentation", 1}};
        QCOMPARE(hist, want);
        QCOMPARE(finals, 60);
    }

    // The 8 real assistant turns without a code block (plain prose answers) are format errors, and MATRIX's
    // runtime answered each with a code-parsing error observation. Two more turns have code but no "Thought:".
    void mtrace_turns_without_code_or_thought() {
        const std::vector<std::pair<size_t, size_t>> no_code = {{12, 2}, {20, 4}, {21, 2}, {24, 4},
                                                               {33, 4}, {35, 6}, {48, 6}, {48, 10}};
        const std::vector<std::pair<size_t, size_t>> thought_only_missing = {{24, 2}, {41, 4}};
        for (auto [r, t] : no_code) {
            const json& conv = mtrace()[r]["conversations"];
            const ParsedAction a = parse_action(conv[t]["value"].get<std::string>());
            QVERIFY(!a.has_code && !a.has_thought && a.tool_calls.empty() && !a.well_formed());
            QVERIFY(matrix_format_error(conv[t]["value"].get<std::string>()));
            const ParsedObservation o = parse_observation(conv[t + 1]["value"].get<std::string>());
            QVERIFY(o.well_formed && o.is_error);
            QVERIFY(o.text.rfind("Error in code parsing", 0) == 0);
        }
        for (auto [r, t] : thought_only_missing) {
            const std::string v = mtrace()[r]["conversations"][t]["value"].get<std::string>();
            const ParsedAction a = parse_action(v);
            QVERIFY(a.has_code && !a.has_thought && a.thought.empty() && !a.rationale.empty());
            QVERIFY(matrix_format_error(v));
        }
    }

    // Every GTA tool (dataset.json's tool lists) is known with its inputs in declared order, and every gold
    // tool call's name is known.
    void gta_tools_known() {
        const json gta = load(MATRIX_SHARED_DIR "/data/gta/dataset.json");
        int gold_calls = 0;
        std::set<std::string> names;
        for (const auto& [id, item] : gta.items()) {
            for (const json& tool : item["tools"]) {
                const KnownTool* kt = find_known_tool(tool["name"].get<std::string>());
                QVERIFY2(kt, tool["name"].get<std::string>().c_str());
                std::vector<std::string> params;
                for (const json& in : tool["inputs"]) params.push_back(in["name"].get<std::string>());
                // Declared inputs are ours or a prefix of ours (CountGivenObject is declared with and without bbox).
                QVERIFY2(params.size() <= kt->parameters.size() &&
                             std::equal(params.begin(), params.end(), kt->parameters.begin()),
                         kt->name.c_str());
                QCOMPARE(kt->family, std::string("gta"));
                names.insert(kt->name);
            }
            for (const json& d : item["dialogs"])
                if (d.contains("tool_calls"))
                    for (const json& tc : d["tool_calls"]) {
                        QVERIFY(find_known_tool(tc["function"]["name"].get<std::string>()));
                        ++gold_calls;
                    }
        }
        QCOMPARE(int(names.size()), 14);
        QCOMPARE(gold_calls, 557);
    }

    // The M-TRACE system prompt lists each tool with "Takes inputs: {...}" (a Python dict literal, read here
    // with the project's own literal reader): each listed tool is known with the same parameter names.
    void mtrace_prompt_tools_known() {
        const std::string sys = mtrace()[0]["conversations"][0]["value"].get<std::string>();
        int listed = 0;
        for (size_t p = sys.find("\n- "); p != std::string::npos; p = sys.find("\n- ", p + 1)) {
            const size_t colon = sys.find(':', p);
            const size_t inputs = sys.find("Takes inputs: ", p);
            if (colon == std::string::npos || inputs == std::string::npos) break;
            const std::string name = sys.substr(p + 3, colon - p - 3);
            const size_t line_end = sys.find('\n', inputs);
            const std::string dict = sys.substr(inputs + 14, line_end - inputs - 14);
            const auto lexed = matrix::conversation::py::lex(dict);
            QVERIFY(lexed.ok);
            size_t n = lexed.tokens.size();
            while (n > 0 && lexed.tokens[n - 1].kind == matrix::conversation::py::TokenKind::Newline) --n;
            const auto value = matrix::conversation::py::literal_value(dict, lexed.tokens, 0, n);
            QVERIFY2(value && value->is_object(), name.c_str());
            const KnownTool* kt = find_known_tool(name);
            QVERIFY2(kt && kt->family == "matrix", name.c_str());
            std::set<std::string> prompt_params, ours(kt->parameters.begin(), kt->parameters.end());
            for (const auto& [k, v] : value->items()) prompt_params.insert(k);
            QCOMPARE(ours, prompt_params);
            ++listed;
        }
        QCOMPARE(listed, 9);  // visualizer ... final_answer (ocr is in the spec but not in this prompt)
        QVERIFY(find_known_tool("ocr"));
        QCOMPARE(find_known_tool("visualizer")->parameters, (std::vector<std::string>{"question", "image_path"}));
        QCOMPARE(find_known_tool("inspect_file_as_text")->parameters,
                 (std::vector<std::string>{"file_path", "question"}));
        QVERIFY(!find_known_tool("print"));
    }

    // The 12 few-shot example actions inside the real system prompt end in "```<end_action>" (one has
    // "Code: " with a trailing space, one a code block that contains an "Observation:" line). Expected
    // call sequences from Python's ast over the same segments.
    void system_prompt_examples() {
        const std::string sys = mtrace()[0]["conversations"][0]["value"].get<std::string>();
        std::vector<std::string> segments;
        for (size_t p = sys.find("\nThought: "); p != std::string::npos; p = sys.find("\nThought: ", p + 1)) {
            const size_t end = sys.find("```<end_action>", p);
            if (end == std::string::npos) break;
            segments.push_back(sys.substr(p + 1, end + 15 - p - 1));
            p = end;
        }
        const std::vector<std::vector<std::string>> want = {
            {"final_answer"}, {"ask_search_agent", "ask_search_agent"}, {"final_answer"}, {"ask_search_agent"},
            {"final_answer"}, {"visualizer"}, {}, {"final_answer"}, {"objectlocation"}, {}, {"visualizer"},
            {"final_answer"}};
        QCOMPARE(segments.size(), want.size());
        for (size_t i = 0; i < segments.size(); ++i) {
            const ParsedAction a = parse_action(segments[i]);
            QVERIFY(a.well_formed() && a.has_end_action && a.has_code_label);
            std::vector<std::string> names;
            for (const ToolCall& c : a.tool_calls) names.push_back(c.name);
            QCOMPARE(names, want[i]);
        }
        const ParsedAction a = parse_action(segments[1]);
        QCOMPARE(a.tool_calls[0].arguments, json({{"query", "Guangzhou population"}}));
        QCOMPARE(a.tool_calls[1].arguments, json({{"query", "Shanghai population"}}));
    }

    // ---- hand-written cases ------------------------------------------------------------------------------
    void tool_calls_data() {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("calls");  // JSON array of {name, known, arguments}
        QTest::addColumn<bool>("parses");
        for (const ToolCallCase& c : tool_call_cases())
            QTest::newRow(c.name) << QString::fromStdString(c.code) << QString::fromStdString(c.calls) << c.parses;
    }
    void tool_calls() {
        QFETCH(QString, code);
        QFETCH(QString, calls);
        QFETCH(bool, parses);
        const ParsedAction a = parse_action(action(code.toStdString()));
        QVERIFY(a.has_code && a.has_thought && a.has_end_action);
        QCOMPARE(a.code, code.toStdString());
        QCOMPARE(a.code_parses, parses);
        QCOMPARE(a.code_error.empty(), parses);
        const json got = calls_json(a.tool_calls);
        const json want = json::parse(calls.toStdString());
        QVERIFY2(got == want, ("\n got: " + got.dump() + "\nwant: " + want.dump()).c_str());
        bool p = !parses;
        QCOMPARE(calls_json(extract_tool_calls(a.code, &p)), got);
        QCOMPARE(p, parses);
    }

    void final_answer_capture() {
        ParsedAction a = parse_action(action("final_answer(\"Shanghai\")"));
        QVERIFY(a.is_final);
        QCOMPARE(*a.final_answer, json("Shanghai"));
        a = parse_action(action("result = 5 + 3\nfinal_answer(result)"));
        QVERIFY(a.is_final);
        QCOMPARE(*a.final_answer, json({{"$expr", "result"}}));
        a = parse_action(action("final_answer(answer=[1, 2])J"));
        QCOMPARE(*a.final_answer, json::parse("[1,2]"));
        a = parse_action(action("final_answer()"));
        QVERIFY(a.is_final && !a.final_answer);
        a = parse_action(action("print(\"final_answer(1)\")"));
        QVERIFY(!a.is_final && !a.final_answer);
    }

    // ---- thought / code split ----------------------------------------------------------------------------
    void split_formats() {
        // ```python and bare ``` fences, <end_action>, CRLF-free trailing spaces.
        ParsedAction a = parse_action("Thought: look.\nCode:\n```python\nx = ocr('a')\n```<end_action>  \n");
        QVERIFY(a.well_formed() && a.has_end_action);
        QCOMPARE(a.code_language, std::string("python"));
        QCOMPARE(a.thought, std::string("look."));
        QCOMPARE(a.code, std::string("x = ocr('a')"));
        a = parse_action("Thought: look.\n\nCode:\n```\nprint(1)\n```");
        QVERIFY(a.well_formed() && !a.has_end_action);
        QCOMPARE(a.code_language, std::string(""));
        // Markdown-decorated labels, as in the real data.
        a = parse_action("**Thought:** I need the price.\n\n**Code:**\n```py\nfinal_answer(3)\n```");
        QCOMPARE(a.thought, std::string("I need the price."));
        QVERIFY(a.has_code_label && a.is_final);
        a = parse_action("### Thought:\nMulti\nline.\n\n### Code:\n```py\nprint(2)\n```");
        QCOMPARE(a.thought, std::string("Multi\nline."));
        QCOMPARE(a.code, std::string("print(2)"));
        // "Code:" inside the thought is not the label; "Code:" inside the code does not cut it.
        a = parse_action("Thought: the Code: label comes later.\nCode:\n```py\ns = \"\"\"\nCode:\n```py\n\"\"\"\nprint(s)\n```");
        QCOMPARE(a.thought, std::string("the Code: label comes later."));
        QCOMPARE(a.code, std::string("s = \"\"\"\nCode:"));  // MATRIX's regex ends at the first \n```
        // Missing pieces.
        a = parse_action("I think the answer is 4.");
        QVERIFY(!a.has_thought && !a.has_code && !a.well_formed());
        QCOMPARE(a.rationale, std::string("I think the answer is 4."));
        a = parse_action("Thought: only thinking, no code.");
        QVERIFY(a.has_thought && !a.has_code);
        QCOMPARE(a.thought, std::string("only thinking, no code."));
        a = parse_action("Code:\n```py\nprint(1)\n```");
        QVERIFY(!a.has_thought && a.has_code && a.thought.empty());
        // A fence without the "Code:" label still gives the code (MATRIX falls back to the whole output).
        a = parse_action("Thought: go.\n```py\nocr('a')\n```");
        QVERIFY(a.has_code && !a.has_code_label && a.has_thought);
        QCOMPARE(a.thought, std::string("go."));
        // Unclosed fence (generation cut off): code to the end, flagged.
        a = parse_action("Thought: t\nCode:\n```py\nx = visualizer(question='q', image_path='i')\n");
        QVERIFY(a.has_code && !a.code_fence_closed && !a.well_formed() && a.code_parses);
        QCOMPARE(a.tool_calls.size(), size_t(1));
        // A fence tag other than py/python is not code (MATRIX's regex rejects it too).
        a = parse_action("Thought: t\nCode:\n```json\n{\"a\": 1}\n```");
        QVERIFY(!a.has_code);
        // Text after the closing fence (a hallucinated observation) is kept apart.
        a = parse_action("Thought: t\nCode:\n```py\nprint(1)\n```\nObservation: 1");
        QCOMPARE(a.trailing_text, std::string("Observation: 1"));
        QCOMPARE(a.code, std::string("print(1)"));
        // Two labelled blocks (a run-on generation): the first is the code, both are counted.
        a = parse_action("Thought: a\nCode:\n```py\nocr('1')\n```\nObservation: x\nThought: b\nCode:\n```py\nocr('2')\n```\n"
                         "Thought: c\nCode:\n```py\nocr('3')\n```");
        QCOMPARE(a.code, std::string("ocr('1')"));
        QCOMPARE(a.code_blocks, 3);
        QCOMPARE(parse_action("Thought: t\nCode:\n```py\nprint(1)\n```").code_blocks, 1);
        // Empty input.
        a = parse_action("");
        QVERIFY(!a.has_thought && !a.has_code && a.tool_calls.empty() && a.code_offset == std::string::npos);
    }

    void matrix_filters() {
        QVERIFY(!matrix_format_error("Thought: x\nCode:\n```py\nprint(1)\n```"));
        QVERIFY(!matrix_format_error("THOUGHT: x ... code"));
        QVERIFY(matrix_format_error("Thought: no c-o-d-e here"));
        QVERIFY(matrix_format_error("Code:\n```py\nprint(1)\n```"));
        QVERIFY(matrix_error_observation("Code execution failed: NameError"));
        QVERIFY(matrix_error_observation("ERROR"));
        QVERIFY(!matrix_error_observation("All fine"));
    }

    void render_and_end_action() {
        const std::string a = render_action("look.", "print(1)");
        QCOMPARE(a, std::string("Thought: look.\n\nCode:\n```py\nprint(1)\n```"));
        const ParsedAction p = parse_action(a);
        QVERIFY(p.well_formed() && p.thought == "look." && p.code == "print(1)");
        QCOMPARE(with_end_action(a), a + "<end_action>");
        QCOMPARE(with_end_action(a + "<end_action>"), a + "<end_action>");
        QCOMPARE(std::string(strip_end_action(a + "<end_action> \n")), a);
        QCOMPARE(std::string(strip_end_action(a)), a);
        QCOMPARE(agent_stop_strings(), (std::vector<std::string>{"<end_action>", "Observation:"}));
    }

    // Invalid UTF-8 in the input never reaches the JSON values (dump() would throw on it).
    void invalid_utf8_is_replaced() {
        const std::string bad = std::string("final_answer(\"a") + char(0xff) + "b\")\nf" + char(0xc3) + "(x=" + char(0xe2) + ")";
        const ParsedAction a = parse_action(action(bad));
        QCOMPARE(a.tool_calls.size(), size_t(2));
        QCOMPARE(a.tool_calls[0].arguments["answer"], json("a\xEF\xBF\xBD" "b"));
        const std::string dumped = calls_json(a.tool_calls).dump();  // would throw on invalid UTF-8
        QVERIFY(!dumped.empty());
    }
};

QTEST_GUILESS_MAIN(TestAction)
#include "test_action.moc"
