// Hand-written tool-call cases for test_action.cpp, kept out of the Q_OBJECT file because moc
// cannot read raw string literals. Each row: name, code, expected calls as JSON, whether the code lexes.
#pragma once

#include <string>
#include <vector>

struct ToolCallCase {
    const char* name;
    std::string code;
    std::string calls;
    bool parses;
};

inline std::vector<ToolCallCase> tool_call_cases() {
    return {
        {"assignment and nested in print", "x = ocr(image_path=\"a.jpg\")\nprint(visualizer(question=\"..\", image_path=p))",
            R"J([{"name":"ocr","known":true,"arguments":{"image_path":"a.jpg"}},
                  {"name":"visualizer","known":true,"arguments":{"question":"..","image_path":{"$expr":"p"}}}])J",
            true},
        {"triple-quoted string with parens and Code:", "text = \"\"\"Result (see below):\nCode:\nfinal_answer(\"not a call\")\n\"\"\"\n"
               "x = ocr(image_path='a.jpg')  # final_answer(\"comment\")\nprint(visualizer(question=\"What's (this)?\", image_path=x))",
            R"J([{"name":"ocr","known":true,"arguments":{"image_path":"a.jpg"}},
                  {"name":"visualizer","known":true,"arguments":{"question":"What's (this)?","image_path":{"$expr":"x"}}}])J",
            true},
        {"f-string argument and call inside an f-string field", "final_answer(f\"Total: {total:.2f}\")\nprint(f\"A: {visualizer(question='Count the {cars}', image_path=p)!r:>{w}}\")",
            R"J([{"name":"final_answer","known":true,"arguments":{"answer":{"$expr":"f\"Total: {total:.2f}\""}}},
                  {"name":"visualizer","known":true,"arguments":{"question":"Count the {cars}","image_path":{"$expr":"p"}}}])J",
            true},
        {"list, dict, tuple, set literals", "segmentation(image_path=\"a.png\", prompt=[[1, 2.5, -3, 4e2]])\n"
               "helper({\"a\": [1, (2, 3)], 'b': {\"c\": None}}, (7,), {1, 2,}, (), {}, flag=True, off=False)",
            R"J([{"name":"segmentation","known":true,"arguments":{"image_path":"a.png","prompt":[[1,2.5,-3,400.0]]}},
                  {"name":"helper","known":false,"arguments":{"$0":{"a":[1,[2,3]],"b":{"c":null}},"$1":[7],"$2":[1,2],
                   "$3":[],"$4":{},"flag":true,"off":false}}])J",
            true},
        {"numbers", "calc(-5, +3.25, -0x10, 1_000, .5, 1e-3, 10., - -2, 0, 0o17, 0b101, 9223372036854775807, -9223372036854775808, 18446744073709551615)",
            R"J([{"name":"calc","known":false,"arguments":{"$0":-5,"$1":3.25,"$2":-16,"$3":1000,"$4":0.5,"$5":0.001,
                   "$6":10.0,"$7":2,"$8":0,"$9":15,"$10":5,"$11":9223372036854775807,"$12":-9223372036854775808,
                   "$13":18446744073709551615}}])J",
            true},
        {"not literals stay source", "calc(1j, b\"raw\", 123456789012345678901234567890, {1: 'a'}, [x for x in y], a + 1, -x, \"a\" f\"{b}\", 007)",
            R"J([{"name":"calc","known":false,"arguments":{"$0":{"$expr":"1j"},"$1":{"$expr":"b\"raw\""},
                   "$2":{"$expr":"123456789012345678901234567890"},"$3":{"$expr":"{1: 'a'}"},
                   "$4":{"$expr":"[x for x in y]"},"$5":{"$expr":"a + 1"},"$6":{"$expr":"-x"},
                   "$7":{"$expr":"\"a\" f\"{b}\""},"$8":{"$expr":"007"}}}])J",
            true},
        {"nested calls and implicit concatenation", "final_answer(ask_search_agent(query=\"q \" 'concatenated'\n    \"\"\" more\"\"\"))",
            R"J([{"name":"final_answer","known":true,"arguments":{"answer":{"$expr":"ask_search_agent(query=\"q \" 'concatenated'\n    \"\"\" more\"\"\")"}}},
                  {"name":"ask_search_agent","known":true,"arguments":{"query":"q concatenated more"}}])J",
            true},
        {"positional and keyword mixed", "inspect_file_as_text(\"report.pdf\", question=\"Total?\")\nobjectlocation(\"cat\", \"b.jpg\")\n"
               "GoogleSearch(\"weather\", k=3)\nTextToBbox(\"img.png\", \"dog\", False)\nvisualizer(\"q\", \"i.png\", \"extra\")",
            R"J([{"name":"inspect_file_as_text","known":true,"arguments":{"file_path":"report.pdf","question":"Total?"}},
                  {"name":"objectlocation","known":true,"arguments":{"object":"cat","image_path":"b.jpg"}},
                  {"name":"GoogleSearch","known":true,"arguments":{"query":"weather","k":3}},
                  {"name":"TextToBbox","known":true,"arguments":{"image":"img.png","text":"dog","top1":false}},
                  {"name":"visualizer","known":true,"arguments":{"question":"q","image_path":"i.png","$2":"extra"}}])J",
            true},
        {"methods, builtins, imports and local defs are not tool calls", "import os, numpy as np\nfrom datetime import timedelta, datetime as dt\nfrom PIL import (Image)\n"
               "results.append(ocr(\"x.png\"))\np = os.path.join(a, b)\nd = timedelta(days=1) + dt(2020, 1, 1)\n"
               "img = Image.open(p)\nprint(len(str(sorted(xs, key=lambda v: v[1]))))\nraise ValueError(\"no\")\n"
               "def helper(x):\n    return visualizer(question=x, image_path=\"a\")\nclass Box(object):\n    pass\n"
               "helper(\"q\")\nBox()\nnp.array([1])\nif (x):\n    pass",
            R"J([{"name":"ocr","known":true,"arguments":{"image_path":"x.png"}},
                  {"name":"visualizer","known":true,"arguments":{"question":{"$expr":"x"},"image_path":"a"}}])J",
            true},
        {"comments and line continuations", "# final_answer(\"no\")\nx = visualizer(  # ask\n    question=\"a\", \\\n    image_path=\"b\"  # path\n)  # done\n"
               "y = 1 + \\\n    facedetection(image_path=\"c\")",
            R"J([{"name":"visualizer","known":true,"arguments":{"question":"a","image_path":"b"}},
                  {"name":"facedetection","known":true,"arguments":{"image_path":"c"}}])J",
            true},
        {"string escapes and raw strings", "final_answer(\"line1\\nline2 \\u00e9 \\x41 \\'q\\' \\\\ \\d \\101 \\U0001F600 \\ud83d\\ude00 \\\n end\")\n"
               "note(r\"C:\\new\\table\", R'\\'')",
            std::string(R"J([{"name":"final_answer","known":true,"arguments":{"answer":"line1\nline2 é A 'q' \\ \\d A 😀 😀  end"}},
                  {"name":"note","known":false,"arguments":{"$0":"C:\\new\\table","$1":"\\'"}}])J"),
            true},
        {"star args and comparisons", "f(*args, a == b, x=y <= z, **kw, **more)",
            R"J([{"name":"f","known":false,"arguments":{"$0":{"$expr":"*args"},"$1":{"$expr":"a == b"},
                   "x":{"$expr":"y <= z"},"**":{"$expr":"kw"},"**1":{"$expr":"more"}}}])J",
            true},
        {"no arguments and trailing comma", "final_answer()\nimage_generator(\n    prompt=\"a red car\",\n)",
            R"J([{"name":"final_answer","known":true,"arguments":{}},
                  {"name":"image_generator","known":true,"arguments":{"prompt":"a red car"}}])J",
            true},
        {"unbalanced bracket", "x = ocr(image_path=\"a.jpg\"\nprint(x)",
                                            R"J([{"name":"ocr","known":true,"arguments":{"image_path":{"$expr":"\"a.jpg\"\nprint(x)"}}}])J",
                                            false},
        // Lexing resumes after the broken line, so later calls are still seen (the code would not run at all).
        {"unterminated string", "print(\"abc)\nfinal_answer(1)",
            R"J([{"name":"final_answer","known":true,"arguments":{"answer":1}}])J", false},
        {"mismatched closer", "x = [1, 2)", R"J([])J", false},
        {"stray closer", "x = 1)\nocr(\"a\")",
                                      R"J([{"name":"ocr","known":true,"arguments":{"image_path":"a"}}])J", false},
        {"unterminated triple quote", "s = '''abc\nocr('x')", R"J([])J", false},
        {"GTA tool names", "OCR(image=\"image/a.jpg\")\nCalculator(\"2 + 3\")",
                                        R"J([{"name":"OCR","known":true,"arguments":{"image":"image/a.jpg"}},
                                              {"name":"Calculator","known":true,"arguments":{"expression":"2 + 3"}}])J",
                                        true},
    };
}
