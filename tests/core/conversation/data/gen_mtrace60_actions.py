#!/usr/bin/env python3
# Writes mtrace60_actions.json: for every assistant turn of tests/data/external/data/mtrace/mtrace-subset-60.json, what
# the trajectory parser must report, computed independently with Python's own ast module:
#   has_code: MATRIX's regex ```(?:py|python)?\n(.*?)\n``` finds a block; has_thought: "thought:" (any case)
#   occurs before it; tool_calls: ast.Call nodes whose callee is a plain Name, not a builtin and not a name the
#   block imports or defines, in source order; arguments: keyword -> value, positional -> the known tool's
#   parameter name (else "$i"); values: literals as JSON, anything else {"$expr": source segment}.
# Usage: python3 gen_mtrace60_actions.py [DATA_DIR] > mtrace60_actions.json   (DATA_DIR default: tests/data/external)
import ast, builtins, json, os, re, sys

KNOWN = {"visualizer": ["question", "image_path"], "ask_search_agent": ["query"],
         "inspect_file_as_text": ["file_path", "question"], "objectlocation": ["object", "image_path"],
         "facedetection": ["image_path"], "segmentation": ["image_path", "prompt"],
         "image_edit": ["prompt", "image_path"], "image_generator": ["prompt"], "ocr": ["image_path"],
         "final_answer": ["answer"]}
BUILTINS = set(dir(builtins))

class NotLiteral(Exception):
    pass

def literal(node):
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
            raise NotLiteral()
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = literal(node.operand)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise NotLiteral()
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                raise NotLiteral()
            kv = literal(k)
            if not isinstance(kv, str):
                raise NotLiteral()
            out[kv] = literal(v)
        return out
    raise NotLiteral()

def value(code, node):
    try:
        return literal(node)
    except NotLiteral:
        return {"$expr": ast.get_source_segment(code, node)}

def main(shared):
    data = json.load(open(shared + "/data/mtrace/mtrace-subset-60.json"))
    rows = []
    for ri, rec in enumerate(data):
        for ti, turn in enumerate(rec["conversations"]):
            if turn["from"] != "assistant":
                continue
            v = turn["value"]
            m = re.search(r"```(?:py|python)?\n(.*?)\n```", v, re.S)
            head = v[: m.start()] if m else v
            row = {"record": ri, "turn": ti, "has_thought": "thought:" in head.lower(), "has_code": bool(m),
                   "tool_calls": []}
            if m:
                code = m.group(1).strip()
                row["code"] = code
                tree = ast.parse(code)
                local = set()
                for n in ast.walk(tree):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        local.update((a.asname or a.name).split(".")[0] for a in n.names)
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                        local.add(n.name)
                calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                         and n.func.id not in BUILTINS and n.func.id not in local]
                calls.sort(key=lambda n: (n.func.lineno, n.func.col_offset))
                for c in calls:
                    params = KNOWN.get(c.func.id, [])
                    args = {}
                    for i, a in enumerate(c.args):
                        key = params[i] if i < len(params) else "$%d" % i
                        args[key] = value(code, a)
                    for kw in c.keywords:
                        args[kw.arg if kw.arg else "**"] = value(code, kw.value)
                    row["tool_calls"].append({"name": c.func.id, "known": c.func.id in KNOWN, "arguments": args})
            rows.append(row)
    json.dump(rows, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")

main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../data/external"))
