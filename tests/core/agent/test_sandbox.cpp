// The Python sandbox: state across steps, tool calls proxied to the host, final_answer as control flow, the
// import policy, output cap, and the escape suite (network, files outside the work folder, the user's home and
// the project database, fork bomb, 10 GiB allocation, infinite loop, ctypes, os.system, subprocess): every
// attempt fails with a clear observation and the host keeps running. Fork isolation: candidates of one step
// never see each other's variables or files. Where bubblewrap cannot run, the namespace cases are skipped with
// the isolation named, and the rlimit and timeout cases still run (also always under RlimitsOnly).
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/agent/sandbox.h"
#include "core/store/project.h"

using namespace matrix;
using namespace matrix::agent;

namespace {

// Processes below this one (walking /proc's parent links).
int descendants() {
    std::map<int, int> parent;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), {});
        const size_t close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        int ppid = 0;
        rest >> state >> ppid;
        if (state != "Z") parent[std::stoi(name)] = ppid;
    }
    int n = 0;
    for (const auto& [pid, ppid] : parent) {
        for (int p = ppid; p > 1;) {
            if (p == getpid()) {
                ++n;
                break;
            }
            auto it = parent.find(p);
            if (it == parent.end()) break;
            p = it->second;
        }
    }
    return n;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A host-side TCP listener on 127.0.0.1 (an ephemeral port) that the sandbox must not reach.
struct Listener {
    int fd = -1;
    int port = 0;
    Listener() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd, 4);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    bool accepted_any() {
        const int c = accept(fd, nullptr, nullptr);
        if (c >= 0) close(c);
        return c >= 0;
    }
    ~Listener() { close(fd); }
};

}  // namespace

class TestSandbox : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_isolation_note;

    SandboxOptions options(const std::string& name, IsolationMode mode) {
        SandboxOptions o;
        o.work_dir = (m_dir.path() + "/" + QString::fromStdString(name)).toStdString();
        o.isolation = mode;
        o.step_timeout_s = 3;
        o.tools = {{"echo", "returns its text", {{"text", "string", "", true}, {"times", "integer", "", false}}, "string"},
                   {"boxes", "fixed boxes", {{"image_path", "string", "", true}}, "list"}};
        return o;
    }

    static ToolHandler handler(std::vector<std::pair<std::string, nlohmann::json>>* calls = nullptr) {
        return [calls](const std::string& name, const nlohmann::json& args, int, const std::string&) -> Result<nlohmann::json> {
            if (calls) calls->emplace_back(name, args);
            if (name == "echo") {
                if (args.value("text", "") == "fail") return make_error("echo cannot say fail");
                std::string out;
                for (int i = 0; i < args.value("times", 1); ++i) out += args.value("text", "");
                return nlohmann::json(out);
            }
            if (name == "boxes") return nlohmann::json::parse("[[1, 2, 3, 4], [5.5, 6, 7, 8]]");
            return make_error("no tool " + name);
        };
    }

    std::unique_ptr<Sandbox> start(const SandboxOptions& o, ToolHandler h = handler()) {
        auto s = Sandbox::start(o, std::move(h));
        if (!s.ok()) qFatal("sandbox did not start: %s", s.error().to_string().c_str());
        return std::move(s).value();
    }

    static ExecResult run(Sandbox& s, const std::string& code) {
        auto r = s.execute(code);
        if (!r.ok()) qFatal("execute failed: %s", r.error().to_string().c_str());
        return *r;
    }

    bool bwrap() {
        auto usable = bubblewrap_usable();
        if (!usable.ok()) m_isolation_note = usable.error().message;
        return usable.ok();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        if (!bwrap()) qWarning("bubblewrap unusable here: %s", m_isolation_note.c_str());
    }

    void state_persists_across_steps_data() {
        QTest::addColumn<int>("mode");
        QTest::newRow("auto") << int(IsolationMode::Auto);
        QTest::newRow("rlimits") << int(IsolationMode::RlimitsOnly);
    }
    void state_persists_across_steps() {
        QFETCH(int, mode);
        auto s = start(options("persist" + std::to_string(mode), IsolationMode(mode)));
        QCOMPARE(s->reduced_isolation(), IsolationMode(mode) == IsolationMode::RlimitsOnly || !bwrap());
        ExecResult a = run(*s, "x = 41\nimport math\nprint('x is', x)");
        QCOMPARE(a.output, std::string("x is 41\n"));
        QVERIFY(!a.error);
        ExecResult b = run(*s, "x += 1\nprint(x, math.sqrt(16))\ndef f(v):\n    return v * 2\n");
        QCOMPARE(b.output, std::string("42 4.0\n"));
        ExecResult c = run(*s, "print(f(x))");
        QCOMPARE(c.output, std::string("84\n"));
        // An error keeps what ran before it, like a persistent interpreter.
        ExecResult d = run(*s, "y = 7\nprint(undefined_name)");
        QCOMPARE(*d.error, std::string("NameError: name 'undefined_name' is not defined"));
        QCOMPARE(run(*s, "print(y)").output, std::string("7\n"));
        // Files persist in the work folder.
        run(*s, "open('note.txt', 'w').write('kept')");
        QCOMPARE(read_file(s->work_dir() + "/note.txt"), std::string("kept"));
        QCOMPARE(run(*s, "print(open('note.txt').read())").output, std::string("kept\n"));
    }

    void tools_are_proxied_to_the_host() {
        std::vector<std::pair<std::string, nlohmann::json>> calls;
        auto s = start(options("tools", IsolationMode::Auto), handler(&calls));
        ExecResult r = run(*s, "print(echo('ab', times=2))\nb = boxes(image_path='x.png')\nprint(b[1][0] + 1, type(b).__name__)");
        QCOMPARE(r.output, std::string("abab\n6.5 list\n"));
        QCOMPARE(r.tool_calls, 2);
        QCOMPARE(calls.size(), size_t(2));
        QCOMPARE(calls[0].second.dump(), std::string(R"({"text":"ab","times":2})"));
        QCOMPARE(calls[1].second.dump(), std::string(R"({"image_path":"x.png"})"));
        // A failing tool raises ToolError with the host's message; agent code may catch it.
        ExecResult e = run(*s, "print(echo(text='fail'))");
        QCOMPARE(*e.error, std::string("echo cannot say fail"));
        ExecResult caught = run(*s, "try:\n    echo(text='fail')\nexcept ToolError as err:\n    print('caught:', err)");
        QCOMPARE(caught.output, std::string("caught: echo cannot say fail\n"));
        // Argument checks happen in the stub, before the host is asked.
        const size_t before = calls.size();
        QCOMPARE(*run(*s, "echo()").error, std::string("echo() missing required argument: 'text'"));
        QCOMPARE(*run(*s, "echo('a', colour=1)").error, std::string("echo() got an unexpected keyword argument 'colour'"));
        QCOMPARE(*run(*s, "echo(text=object())").error,
                 std::string("argument 'text' of echo() is a object, which cannot be passed to a tool: pass a file path "
                             "or a plain value"));
        QCOMPARE(calls.size(), before);
    }

    void final_answer_cannot_be_swallowed() {
        auto s = start(options("final", IsolationMode::Auto));
        ExecResult plain = run(*s, "final_answer({'a': [1, 2.5], 'b': None})");
        QVERIFY(plain.is_final);
        QCOMPARE(plain.final_answer.dump(), std::string(R"({"a":[1,2.5],"b":null})"));
        QCOMPARE(plain.final_answer_text, std::string("{'a': [1, 2.5], 'b': None}"));
        ExecResult swallowed = run(*s, "try:\n    final_answer(42)\nexcept BaseException:\n    print('swallowed')\n"
                                       "final_answer(43)\nraise ValueError('after')");
        QVERIFY(swallowed.is_final);
        QCOMPARE(swallowed.final_answer.dump(), std::string("42"));
        QVERIFY(!swallowed.error);
        QCOMPARE(swallowed.output, std::string("swallowed\n"));
        // SystemExit does not end the runner.
        ExecResult exit_attempt = run(*s, "raise SystemExit(3)");
        QCOMPARE(*exit_attempt.error, std::string("3"));
        QCOMPARE(run(*s, "print('alive')").output, std::string("alive\n"));
    }

    void import_policy_and_output_cap() {
        SandboxOptions o = options("policy", IsolationMode::Auto);
        o.max_output_chars = 100;
        auto s = start(o);
        for (const char* module : {"os", "subprocess", "ctypes", "socket", "sys", "shutil"}) {
            ExecResult r = run(*s, std::string("import ") + module);
            QCOMPARE(*r.error, "ImportError: Import of " + std::string(module) +
                                   " is not allowed. Authorized imports are: ['math', 're', 'json', 'datetime', 'time', "
                                   "'collections', 'itertools', 'statistics', 'random', 'unicodedata', 'queue', "
                                   "'numpy', 'pandas', 'PIL', 'cv2']");
        }
        QCOMPARE(*run(*s, "from os import path").error,
                 std::string("ImportError: Import of os is not allowed. Authorized imports are: ['math', 're', 'json', "
                             "'datetime', 'time', 'collections', 'itertools', 'statistics', 'random', 'unicodedata', "
                             "'queue', 'numpy', 'pandas', 'PIL', 'cv2']"));
        ExecResult ok = run(*s, "import numpy as np\nfrom PIL import Image\nimport cv2, pandas\nprint(int(np.arange(5).sum()))");
        QVERIFY2(!ok.error, ok.error.value_or("").c_str());
        QCOMPARE(ok.output, std::string("10\n"));
        // Allowed modules may import their own helpers (datetime.strptime imports _strptime from C).
        ExecResult helper = run(*s, "from datetime import datetime\nprint(datetime.strptime('18:15', '%H:%M').minute)");
        QCOMPARE(helper.output, std::string("15\n"));
        ExecResult big = run(*s, "print('x' * 250)");
        QCOMPARE(big.output, std::string(100, 'x') +
                                 "\n[Output truncated: 151 more characters were printed. Print less, or only what you need.]\n");
    }

    // --- the escape suite -------------------------------------------------------------------------------------
    void escape_network() {
        if (!bwrap()) QSKIP(("no network namespace without bubblewrap: " + m_isolation_note).c_str());
        SandboxOptions o = options("net", IsolationMode::Bubblewrap);
        o.authorized_imports = {"*"};
        auto s = start(o);
        Listener listener;
        QVERIFY(listener.port > 0);
        ExecResult r = run(*s, "import socket\nsocket.create_connection(('127.0.0.1', " + std::to_string(listener.port) +
                                   "), timeout=2)");
        QVERIFY(r.error);
        QVERIFY2(r.error->find("Errno") != std::string::npos, r.error->c_str());  // refused or unreachable
        QVERIFY(!listener.accepted_any());
        // And the policy answer without "*".
        auto strict = start(options("net2", IsolationMode::Bubblewrap));
        QVERIFY(run(*strict, "import socket").error->rfind("ImportError: Import of socket is not allowed", 0) == 0);
    }

    void escape_files_outside_the_work_folder() {
        if (!bwrap()) QSKIP(("no mount namespace without bubblewrap: " + m_isolation_note).c_str());
        // A secret next to the work folder, a project database, and the user's home.
        const std::string outside = m_dir.path().toStdString() + "/outside";
        QVERIFY(QDir().mkpath(QString::fromStdString(outside)));
        std::ofstream(outside + "/secret.txt") << "secret";
        const std::string db = m_dir.path().toStdString() + "/project.matrix";
        QVERIFY(store::Project::open(db).ok());
        SandboxOptions o = options("files", IsolationMode::Bubblewrap);
        o.authorized_imports = {"*"};
        auto s = start(o);
        ExecResult read_secret = run(*s, "print(open('" + outside + "/secret.txt').read())");
        QCOMPARE(*read_secret.error, "[Errno 2] No such file or directory: '" + outside + "/secret.txt'");
        ExecResult read_db = run(*s, "print(len(open('" + db + "', 'rb').read()))");
        QCOMPARE(*read_db.error, "[Errno 2] No such file or directory: '" + db + "'");
        const std::string home = qEnvironmentVariable("HOME", "/root").toStdString();
        ExecResult list_home = run(*s, "import os\nprint(os.listdir('" + home + "'))");
        QVERIFY2(list_home.error && list_home.error->find("No such file or directory") != std::string::npos,
                 list_home.error.value_or(list_home.output).c_str());
        ExecResult write_outside = run(*s, "open('" + outside + "/planted.txt', 'w').write('x')");
        QVERIFY(write_outside.error);
        QVERIFY(!QFile::exists(QString::fromStdString(outside + "/planted.txt")));
        ExecResult write_system = run(*s, "open('/usr/planted.txt', 'w').write('x')");
        QCOMPARE(*write_system.error, std::string("[Errno 30] Read-only file system: '/usr/planted.txt'"));
        // Through os.system, subprocess and ctypes too: the processes see the same sandbox.
        ExecResult system = run(*s, "import os\nprint(os.system('cat " + outside + "/secret.txt > leaked.txt 2>/dev/null'))");
        QVERIFY(!system.error);
        QVERIFY(system.output != "0\n");
        QCOMPARE(read_file(s->work_dir() + "/leaked.txt"), std::string());
        ExecResult sub = run(*s, "import subprocess\nr = subprocess.run(['cat', '" + outside + "/secret.txt'], "
                                 "capture_output=True, text=True)\nprint(r.returncode, r.stdout == '')");
        QCOMPARE(sub.output, std::string("1 True\n"));
        ExecResult ct = run(*s, "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\n"
                                "fd = libc.open(b'" + outside + "/secret.txt', 0)\nprint(fd)");
        QCOMPARE(ct.output, std::string("-1\n"));
        // The temporary folder is private to the sandbox.
        run(*s, "open('/tmp/sandbox-private.txt', 'w').write('x')");
        QVERIFY(!QFile::exists("/tmp/sandbox-private.txt"));
        // The policy answers for the same modules without "*".
        auto strict = start(options("files2", IsolationMode::Bubblewrap));
        for (const char* m : {"ctypes", "subprocess", "os"})
            QVERIFY(run(*strict, std::string("import ") + m).error->rfind("ImportError: Import of", 0) == 0);
    }

    void escape_limits_data() {
        QTest::addColumn<int>("mode");
        QTest::newRow("auto") << int(IsolationMode::Auto);
        QTest::newRow("rlimits") << int(IsolationMode::RlimitsOnly);
    }
    void escape_limits() {
        QFETCH(int, mode);
        SandboxOptions o = options("limits" + std::to_string(mode), IsolationMode(mode));
        o.authorized_imports = {"*"};
        o.limits.processes = 40;
        o.step_timeout_s = 2;
        auto s = start(o);
        qInfo("isolation: %s", s->isolation().c_str());
        run(*s, "kept = 'before'");
        // 10 GiB allocation.
        ExecResult alloc = run(*s, "x = bytearray(10 * 1024 ** 3)");
        QCOMPARE(*alloc.error, std::string("MemoryError"));
        // Infinite loop: killed at the timeout; the state is the one before the step.
        QElapsedTimer t;
        t.start();
        ExecResult loop = run(*s, "kept = 'changed'\nwhile True:\n    pass");
        QVERIFY(loop.timed_out);
        QVERIFY(t.elapsed() >= 2000 && t.elapsed() < 6000);
        QCOMPARE(*loop.error, std::string("Code execution timed out after 2 seconds: the step was stopped and the "
                                          "variables are as they were before it"));
        QCOMPARE(run(*s, "print(kept)").output, std::string("before\n"));
        // Fork bomb: stopped by the process limit (or the timeout), the host goes on.
        ExecResult bomb = run(*s, "import os\nwhile True:\n    os.fork()");
        QVERIFY(bomb.error);
        QVERIFY2(bomb.timed_out || bomb.error->find("Resource temporarily unavailable") != std::string::npos,
                 bomb.error->c_str());
        QCOMPARE(run(*s, "print('alive', kept)").output, std::string("alive before\n"));
        // A file over the size limit.
        SandboxOptions small = options("fsize" + std::to_string(mode), IsolationMode(mode));
        small.limits.file_size_mib = 1;
        auto f = start(small);
        ExecResult big = run(*f, "open('big.bin', 'wb').write(b'0' * (2 * 1024 * 1024))");
        QCOMPARE(*big.error, std::string("[Errno 27] File too large"));
        // A crash (the process killed by a signal) leaves the state as it was.
        SandboxOptions anything = options("crash2" + std::to_string(mode), IsolationMode(mode));
        anything.authorized_imports = {"*"};
        auto k = start(anything);
        run(*k, "v = 1");
        ExecResult crash = run(*k, "import os, signal\nv = 2\nos.kill(os.getpid(), signal.SIGKILL)");
        QVERIFY(crash.crashed);
        QCOMPARE(*crash.error, std::string("The Python process running this code died (killed by signal 9), e.g. past "
                                           "the memory or CPU limit; the variables are as they were before this step"));
        QCOMPARE(run(*k, "print(v)").output, std::string("1\n"));
    }

    void fork_isolation() {
        const std::vector<std::string> codes = {
            "import time\nshared.append('a')\nmine = 'a'\nopen('base.txt', 'w').write('a')\nopen('a.txt', 'w').write('a')\n"
            "time.sleep(0.4)\nprint(shared, open('base.txt').read(), sorted(n for n in ['a.txt', 'b.txt'] if __import__('pathlib').Path(n).exists()))",
            "import time\nshared.append('b')\nmine = 'b'\nopen('base.txt', 'w').write('b')\nopen('b.txt', 'w').write('b')\n"
            "time.sleep(0.4)\nprint(shared, open('base.txt').read(), sorted(n for n in ['a.txt', 'b.txt'] if __import__('pathlib').Path(n).exists()))",
            "import time\ntime.sleep(0.4)\nprint(shared, open('base.txt').read(), 'mine' in globals())",
        };
        SandboxOptions o = options("forks", IsolationMode::Auto);
        o.authorized_imports.push_back("pathlib");
        auto s = start(o);
        run(*s, "shared = [1]\nopen('base.txt', 'w').write('base')");
        auto results = s->explore(codes, 3);
        QVERIFY(results.ok());
        QCOMPARE((*results)[0].output, std::string("[1, 'a'] a ['a.txt']\n"));
        QCOMPARE((*results)[1].output, std::string("[1, 'b'] b ['b.txt']\n"));
        QCOMPARE((*results)[2].output, std::string("[1] base False\n"));
        QVERIFY((*results)[0].folder != (*results)[1].folder);
        QVERIFY(s->choose(1).ok());
        ExecResult after = run(*s, "print(shared, mine, open('base.txt').read(), "
                                   "__import__('pathlib').Path('a.txt').exists(), __import__('pathlib').Path('b.txt').exists())");
        QCOMPARE(after.output, std::string("[1, 'b'] b b False True\n"));
        QCOMPARE(s->current_folder(), (*results)[1].folder);
        // Siblings' folders are removed (after the answer: the retiring state cleans up while the chosen one goes on).
        QTRY_VERIFY_WITH_TIMEOUT(!QDir(QString::fromStdString((*results)[0].folder)).exists(), 5000);
        // discard(): the state is the one before the candidates.
        auto again = s->explore({"mine = 'x'", "mine = 'y'"}, 4);
        QVERIFY(again.ok());
        QVERIFY(s->discard().ok());
        QCOMPARE(run(*s, "print(mine)").output, std::string("b\n"));
        // A timed-out candidate cannot be chosen; its siblings are unaffected.
        auto mixed = s->explore({"while True:\n    pass", "print('quick')"}, 5);
        QVERIFY(mixed.ok());
        QVERIFY((*mixed)[0].timed_out);
        QCOMPARE((*mixed)[1].output, std::string("quick\n"));
        QVERIFY(!s->choose(0).ok());
        QCOMPARE(run(*s, "print(mine)").output, std::string("b\n"));
    }

    // Spare forks made while the host is busy carry exactly the state they were forked from: after kept steps,
    // discarded candidates and a chosen candidate (whose folder is its own copy), and they all end with the sandbox.
    void spare_forks_hold_their_state() {
        SandboxOptions o = options("spares", IsolationMode::Auto);
        o.spare_forks = 3;
        o.authorized_imports.push_back("pathlib");
        const int before = descendants();
        auto s = start(o);
        const auto pause = [] { QTest::qWait(250); };  // the controller "generating": the state makes its spares
        pause();
        QVERIFY(descendants() - before >= 4);  // the state and its 3 spares (and bubblewrap's own processes)
        run(*s, "x = 1\nopen('f.txt', 'w').write('1')");
        pause();
        QCOMPARE(run(*s, "x += 1\nprint(x, open('f.txt').read())").output, std::string("2 1\n"));
        pause();
        auto c = s->explore({"x += 10\nopen('f.txt', 'w').write('a')\nprint(x)", "x += 20\nprint(x, open('f.txt').read())",
                             "del x\nimport pathlib\npathlib.Path('f.txt').unlink()\nprint('gone')", "print(x, open('f.txt').read())"}, 2);
        QVERIFY(c.ok());
        QCOMPARE((*c)[0].output, std::string("12\n"));
        QCOMPARE((*c)[1].output, std::string("22 1\n"));
        QCOMPARE((*c)[2].output, std::string("gone\n"));
        QCOMPARE((*c)[3].output, std::string("2 1\n"));
        QVERIFY(s->discard().ok());
        pause();
        auto d = s->explore({"x *= 5\nprint(x)", "x *= 7\nopen('f.txt', 'w').write('seven')\nprint(x)"}, 3);
        QVERIFY(d.ok());
        QCOMPARE((*d)[0].output, std::string("10\n"));
        QCOMPARE((*d)[1].output, std::string("14\n"));
        QVERIFY(s->choose(1).ok());
        pause();
        QCOMPARE(run(*s, "print(x, open('f.txt').read())").output, std::string("14 seven\n"));
        // Back to back (no time for spares): the same answers.
        QCOMPARE(run(*s, "x += 1").output, std::string(""));
        QCOMPARE(run(*s, "print(x)").output, std::string("15\n"));
        s.reset();
        QTRY_COMPARE_WITH_TIMEOUT(descendants() - before, 0, 10000);
    }
};

QTEST_GUILESS_MAIN(TestSandbox)
#include "test_sandbox.moc"
