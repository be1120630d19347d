# MATRIX Workbench sandbox runner: the Python side of core/agent/sandbox.
#
# Runs agent code in a persistent interpreter state inside an isolated OS process (bubblewrap where it works,
# rlimits always). The host (C++) speaks JSON lines over a Unix stream socket (fd given as argv[1]):
#   host -> process: {"op":"init", ...}, {"op":"fork","n":K}, {"op":"exec","code":..,"step":i},
#                    {"op":"kill","pids":[..]}, {"op":"retire","keep":pid}, {"op":"ping"},
#                    {"op":"spares","n":K} (no reply: keep K forks of this state ready while idle)
#   process -> host: one reply per request; during "exec" also {"op":"tool","name":..,"args":{..}} requests,
#                    answered by the host with {"ok":true,"value":..} or {"ok":false,"error":".."}.
# Every step runs in a forked child ("fork"), so a step that times out or crashes leaves the state as it was,
# and K candidates of one step run from the same state without seeing each other's effects: the host keeps
# the chosen child and the parent "retires" (kills the other children and exits; the first process stays,
# since the sandbox ends with it). A state process keeps "spares" ready while the host is busy (the controller
# generating): forks of itself parked on their own socket, so a step's fork is already done when the step comes.
# The state never runs agent code itself, so a spare is exactly what a fork made later would be. Tools are stubs
# that forward calls to the host. final_answer() ends the
# step even when agent code catches the exception it raises. The import allow-list is policy, not isolation.
import builtins
import io
import json
import os
import shutil
import signal
import socket
import sys

_CHANNEL = None  # the current process's Channel to the host
_CONFIG = {}
_CHILDREN = {}  # pid -> the candidate's own work folder ("" when it shares this process's folder)
_FINAL = []  # [value] once final_answer() was called in this step
_STEP_PID = None  # pid of the process that runs the current step (forks inside agent code must not reply)
_SPARES = []  # [(pid, host end socket)]: parked forks of this state, oldest first
_SPARE_TARGET = 0  # how many spares this process keeps while idle (set by the host once it is the state)


class Channel:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, obj, fds=None):
        data = (json.dumps(obj, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        if fds:
            sent = socket.send_fds(self.sock, [data], fds)
            data = data[sent:]
        if data:
            self.sock.sendall(data)

    def recv(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(1 << 16)
            except InterruptedError:
                continue
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line.decode("utf-8", "replace"))


def _clean(text):
    # Lone surrogates (from odd bytes) cannot travel as UTF-8 JSON.
    return text.encode("utf-8", "replace").decode("utf-8")


class CappedOutput(io.TextIOBase):
    """print() target of one step: keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.kept = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not " + type(s).__name__)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += "\n[Output truncated: %d more characters were printed. Print less, or only what you need.]\n" % self.dropped
        return _clean(out)


class ToolError(Exception):
    """A tool call that the host could not carry out (unavailable backend, bad argument, tool failure)."""


class _FinalAnswer(BaseException):
    pass


def _to_json(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v, where) for k, v in value.items()}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _to_json(value.tolist(), where)
    raise TypeError("%s is a %s, which cannot be passed to a tool: pass a file path or a plain value"
                    % (where, type(value).__name__))


def _call_tool(name, args):
    if os.getpid() != _STEP_PID:
        raise ToolError("tools can only be called from the agent's own process, not from a forked child")
    _CHANNEL.send({"op": "tool", "name": name, "args": args, "cwd": os.getcwd()})
    reply = _CHANNEL.recv()
    if reply is None:
        os._exit(0)
    if reply.get("ok"):
        return reply.get("value")
    raise ToolError(reply.get("error") or ("%s failed" % name))


def _make_tool(spec):
    name = spec["name"]
    params = spec.get("params", [])
    names = [p["name"] for p in params]

    def tool(*args, **kwargs):
        if len(args) > len(names):
            raise TypeError("%s() takes %d arguments but %d were given" % (name, len(names), len(args)))
        bound = {}
        for pname, value in zip(names, args):
            bound[pname] = value
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError("%s() got an unexpected keyword argument '%s'" % (name, key))
            if key in bound:
                raise TypeError("%s() got multiple values for argument '%s'" % (name, key))
            bound[key] = value
        for p in params:
            if p.get("required", True) and p["name"] not in bound:
                raise TypeError("%s() missing required argument: '%s'" % (name, p["name"]))
        sent = {k: _to_json(v, "argument '%s' of %s()" % (k, name)) for k, v in bound.items()}
        return _call_tool(name, sent)

    tool.__name__ = name
    tool.__qualname__ = name
    tool.__doc__ = spec.get("description", "")
    return tool


def final_answer(answer=None):
    if not _FINAL:
        _FINAL.append(answer)
    raise _FinalAnswer()


def _import_allowed(name):
    allowed = _CONFIG.get("authorized_imports", [])
    if "*" in allowed:
        return True
    parts = name.split(".")
    return any(".".join(parts[:i]) in allowed for i in range(1, len(parts) + 1))


_REAL_IMPORT = builtins.__import__


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    # Import statements pass fromlist None or a tuple; C code importing its helpers (datetime.strptime imports
    # _strptime through PyImport_Import) passes a list: those are the allowed modules' own business.
    if level == 0 and not isinstance(fromlist, list) and not _import_allowed(name):
        raise ImportError("Import of %s is not allowed. Authorized imports are: %s"
                          % (name, str(_CONFIG.get("authorized_imports", []))))
    return _REAL_IMPORT(name, globals, locals, fromlist, level)


def _new_state():
    safe_builtins = dict(builtins.__dict__)
    safe_builtins["__import__"] = _guarded_import
    state = {"__name__": "__main__", "__builtins__": safe_builtins}
    for spec in _CONFIG.get("tools", []):
        state[spec["name"]] = _make_tool(spec)
    state["final_answer"] = final_answer
    state["ToolError"] = ToolError
    return state


_STATE = {}


def _describe(exc):
    text = str(exc)
    if isinstance(exc, SyntaxError):
        text = "%s (line %s)" % (exc.msg, exc.lineno)
    if not text or isinstance(exc, (KeyError, IndexError, AttributeError, NameError, ImportError)):
        text = ("%s: %s" % (type(exc).__name__, text)) if text else type(exc).__name__
    return _clean(text)


def _final_value(value):
    try:
        from PIL import Image  # only when the answer is an image object
        if isinstance(value, Image.Image):
            path = os.path.join(os.getcwd(), "final_answer_%d.png" % os.getpid())
            value.save(path)
            return path
    except Exception:
        pass
    try:
        return _to_json(value, "the final answer")
    except TypeError:
        return _clean(str(value))


def _exec(msg):
    global _STEP_PID
    _STEP_PID = os.getpid()
    del _FINAL[:]
    out = CappedOutput(int(_CONFIG.get("max_output_chars", 50000)))
    err = io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    error = None
    try:
        code = compile(msg.get("code", ""), "<step %s>" % msg.get("step", "?"), "exec")
        exec(code, _STATE)
    except _FinalAnswer:
        pass
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: agent code must not end the runner
        error = _describe(exc)
    finally:
        sys.stdout, sys.stderr = old
        if os.getpid() != _STEP_PID:
            os._exit(0)  # a process forked by the agent code: never speak on the channel
    reply = {"op": "result", "output": out.text(), "error": error, "final": bool(_FINAL)}
    if _FINAL:
        reply["final_answer"] = _final_value(_FINAL[0])
        text = reply["final_answer"] if isinstance(reply["final_answer"], str) else None
        if text is None:
            try:
                text = _clean(str(_FINAL[0]))
            except Exception as exc:
                text = "<final answer of type %s: str() failed: %s>" % (type(_FINAL[0]).__name__, _describe(exc))
        reply["final_answer_text"] = text
        reply["error"] = None  # final_answer() ends the step, whatever its code did after catching it
    return reply


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "gone"
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    return "exited with status %d" % os.WEXITSTATUS(status)


def _copy_work_folder(dest):
    """The candidate's own copy of the current folder; read-only inputs inside it stay links to the originals."""
    inputs = set(_CONFIG.get("inputs", []))

    def copy(src, dst):
        if os.path.abspath(src) in inputs:
            os.symlink(os.path.abspath(src), dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(os.getcwd(), dest, symlinks=True, copy_function=copy,
                    ignore=lambda folder, names: [n for n in names if os.path.join(folder, n) == _CONFIG.get("forks_dir")])


def _remove_folder(path):
    if path:
        shutil.rmtree(path, ignore_errors=True)


def _fork_retrying(seconds=3.0):
    import time
    deadline = time.monotonic() + seconds
    while True:
        try:
            return os.fork()
        except BlockingIOError:
            if time.monotonic() > deadline:
                return -1
            time.sleep(0.02)


def _become_child(own_sockets):
    """In a freshly forked child of the state: drop what belongs to the parent."""
    global _SPARE_TARGET
    for sock in own_sockets:
        sock.close()
    for _, sock in _SPARES:
        sock.close()
    del _SPARES[:]
    _SPARE_TARGET = 0
    _CHILDREN.clear()
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


def _start_candidate(chan, folder):
    """Runs in the candidate's process: its own copy of the work folder (when isolated), then serve the host."""
    copy_error = None
    if folder:  # each candidate copies the folder itself: the copies run in parallel
        try:
            _copy_work_folder(folder)
            os.chdir(folder)
        except OSError as exc:
            copy_error = "cannot copy the work folder for this candidate: %s" % exc
    _serve(chan, root=False, refuse=copy_error)
    os._exit(0)


def _park(child_end):
    """A spare's life until the state hands it a step: wait for its folder, then become a candidate."""
    chan = Channel(child_end)
    msg = chan.recv()
    if msg is None or msg.get("op") != "assign":
        os._exit(0)
    _start_candidate(chan, msg.get("folder", ""))  # the same Channel: it may have buffered the first request


def _make_spare(parent_chan):
    host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = os.fork()
    except OSError:  # the process limit: no spare now, the step forks when it comes
        host_end.close()
        child_end.close()
        return False
    if pid == 0:
        parent_chan.sock.close()
        _become_child([host_end])
        _park(child_end)
        os._exit(0)
    child_end.close()
    _SPARES.append((pid, host_end))
    return True


def _idle(chan):
    """True when no request from the host is waiting."""
    if b"\n" in chan.buf:
        return False
    import select
    readable, _, _ = select.select([chan.sock], [], [], 0)
    return not readable


def _refill_spares(chan):
    while len(_SPARES) < _SPARE_TARGET and _idle(chan):
        if not _make_spare(chan):
            break


def _fork(chan, n, step):
    pids, host_ends, own, folders = [], [], [], []
    isolate = n > 1 and _CONFIG.get("forks_dir")
    for j in range(n):
        folder = ""
        if isolate:
            folder = os.path.join(_CONFIG["forks_dir"], "step%s-c%d-%d" % (step, j, os.getpid()))
            _remove_folder(folder)
        folders.append(folder)
        if _SPARES:  # already forked while the host was busy
            pid, host_end = _SPARES.pop(0)
            try:
                Channel(host_end).send({"op": "assign", "folder": folder})
            except OSError:  # the spare died (it should not): fork a fresh one instead
                host_end.close()
                _kill(pid)
            else:
                _CHILDREN[pid] = folder
                pids.append(pid)
                host_ends.append(host_end)
                own.append(host_end)
                continue
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = _fork_retrying()
        if pid < 0:  # the process limit is still full (a killed fork bomb's processes being reaped)
            host_end.close()
            child_end.close()
            for f in folders:
                _remove_folder(f)
            for s in own:
                s.close()
            for p in pids:
                _kill(p)
                _CHILDREN.pop(p, None)
            chan.send({"op": "error", "error": "cannot start a process for the step: the sandbox's process limit is reached"})
            return
        if pid == 0:
            chan.sock.close()
            _become_child([host_end] + own)
            _start_candidate(Channel(child_end), folder)
        child_end.close()
        _CHILDREN[pid] = folder
        pids.append(pid)
        host_ends.append(host_end)
        own.append(host_end)
    chan.send({"op": "forked", "pids": pids, "folders": folders}, fds=[s.fileno() for s in host_ends])
    for s in host_ends:
        s.close()


def _serve(chan, root, refuse=None):
    global _CHANNEL, _SPARE_TARGET
    _CHANNEL = chan
    while True:
        _refill_spares(chan)
        msg = chan.recv()
        if msg is None:
            os._exit(0)
        op = msg.get("op")
        if op == "exec" and refuse:
            chan.send({"op": "result", "output": "", "error": refuse, "final": False})
        elif op == "exec":
            chan.send(_exec(msg))
        elif op == "fork":
            _fork(chan, int(msg.get("n", 1)), msg.get("step", "x"))
        elif op == "kill":
            status = {}
            for p in msg.get("pids", []):
                if p in _CHILDREN:
                    status[str(p)] = _kill(p)
                    _remove_folder(_CHILDREN.pop(p))
            chan.send({"op": "killed", "status": status})
        elif op == "retire":
            # Answer first: the kept candidate goes on while this process kills and reaps its siblings (a large
            # interpreter takes a while to tear down) and removes their folders.
            keep = msg.get("keep")
            others = [(pid, folder) for pid, folder in _CHILDREN.items() if pid != keep]
            others += [(pid, "") for pid, _ in _SPARES]
            for _, sock in _SPARES:
                sock.close()
            del _SPARES[:]
            _SPARE_TARGET = 0
            _CHILDREN.clear()
            chan.send({"op": "retired"})
            for pid, _ in others:
                for kill in (os.killpg, os.kill):
                    try:
                        kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            for pid, folder in others:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
                _remove_folder(folder)
            if not root:
                os._exit(0)
        elif op == "spares":
            _SPARE_TARGET = max(0, min(int(msg.get("n", 0)), 16))
        elif op == "ping":
            chan.send({"op": "pong", "pid": os.getpid()})
        elif op == "exit":
            os._exit(0)
        else:
            chan.send({"op": "error", "error": "unknown op %r" % op})


def main():
    global _CONFIG, _STATE
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock = socket.socket(fileno=int(sys.argv[1]))
    chan = Channel(sock)
    init = chan.recv()
    if init is None or init.get("op") != "init":
        os._exit(2)
    _CONFIG = init
    if init.get("work_dir"):
        os.chdir(init["work_dir"])
    _STATE = _new_state()
    for module in init.get("preload", []):  # warm imports shared by every fork (copy-on-write)
        try:
            _REAL_IMPORT(module)
        except Exception:
            pass
    import gc
    gc.collect()
    gc.freeze()  # the preloaded modules' objects are never scanned again: forks touch fewer shared pages
    chan.send({"op": "ready", "pid": os.getpid(), "python": sys.version.split()[0]})
    _serve(chan, root=True)


if __name__ == "__main__":
    main()
