// The tool plugin loader (core/agent/plugin_loader.h) on the minimal example plugin of plugins/README.md (built by
// the tests into a folder of its own): loading, registering over the unavailable defaults, MATRIX_PLUGIN_PATH, and
// the refusals, each naming the file (not a library, not a plugin, another interface version, no such file).
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/agent/agent_job.h"
#include "core/agent/plugin_loader.h"

using namespace matrix;
using namespace matrix::agent;
namespace fs = std::filesystem;

namespace {
const std::string k_example = std::string(MATRIX_EXAMPLE_PLUGIN_DIR) + "/libmatrix_tool_word_count.so";
const std::string k_wrong_abi = std::string(MATRIX_BINARY_DIR) + "/tests/wrong-abi-plugins/libmatrix_tool_wrong_abi.so";
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

class TestPluginLoader : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void loads_the_example_plugin() {
        auto loaded = load_tool_plugin(k_example, ToolHost{});
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().to_string().c_str());
        QCOMPARE(loaded->plugin, std::string("word_count"));
        QCOMPARE(loaded->version, std::string("1"));
        QCOMPARE(loaded->tools.size(), size_t(1));
        auto& tool = *loaded->tools.front();
        QCOMPARE(tool.spec().name, std::string("word_count"));
        QCOMPARE(tool.spec().params.front().name, std::string("text"));
        QCOMPARE(tool.status().available, true);
        auto r = tool.call({{"text", "four words right here"}}, ToolCallContext{});
        QVERIFY(r.ok());
        QCOMPARE(r->get<int>(), 4);
        auto bad = tool.call({{"text", 3}}, ToolCallContext{});
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().message, std::string("word_count: text must be a string"));
        // Loading again reuses the library and makes fresh tools.
        auto again = load_tool_plugin(k_example, ToolHost{});
        QVERIFY(again.ok());
        QVERIFY(again->tools.front().get() != loaded->tools.front().get());
    }

    void registers_over_the_defaults() {
        ToolRegistry registry = matrix_tools_without_backends("none here");
        const size_t n = registry.tools().size();
        PluginLoadReport report = add_tool_plugins(registry, ToolHost{}, {MATRIX_EXAMPLE_PLUGIN_DIR});
        QCOMPARE(report.entries.size(), size_t(1));
        QCOMPARE(report.entries.front().error, std::string());
        QCOMPARE(report.entries.front().tools, std::vector<std::string>{"word_count"});
        QCOMPARE(registry.tools().size(), n + 1);
        QCOMPARE(registry.tools().back()->spec().name, std::string("word_count"));
        auto r = registry.call("word_count", {{"text", "a b"}}, ToolCallContext{});
        QCOMPARE(r->get<int>(), 2);
        QCOMPARE(report.to_json()["plugins"][0]["plugin"].get<std::string>(), std::string("word_count"));
    }

    void plugin_path_reaches_the_agent_registry() {
        ::setenv("MATRIX_PLUGIN_PATH", (std::string("/no/such/folder:") + MATRIX_EXAMPLE_PLUGIN_DIR).c_str(), 1);
        const std::vector<std::string> folders = default_plugin_folders();
        ::unsetenv("MATRIX_PLUGIN_PATH");
        QVERIFY(!folders.empty());
        QCOMPARE(folders.back(), fs::canonical(MATRIX_EXAMPLE_PLUGIN_DIR).string());
        QCOMPARE(folders.front(), fs::canonical(MATRIX_PLUGIN_BUILD_DIR).string());

        ::setenv("MATRIX_PLUGIN_PATH", MATRIX_EXAMPLE_PLUGIN_DIR, 1);
        PluginLoadReport report;
        auto all = agent_tool_registry({}, ToolHost{}, &report);
        auto one = agent_tool_registry({"word_count"});
        ::unsetenv("MATRIX_PLUGIN_PATH");
        QVERIFY(all.ok());
        QCOMPARE(all->tools().front()->spec().name, std::string("visualizer"));
        QCOMPARE(all->tools().back()->spec().name, std::string("word_count"));
        QCOMPARE(report.errors(), std::vector<std::string>{});
        QVERIFY(one.ok());
        QCOMPARE(one->tools().size(), size_t(1));
        QVERIFY(!agent_tool_registry({"word_count"}).ok());  // without the path: unknown
    }

    void refusals_name_the_file() {
        // Another interface version.
        auto wrong = load_tool_plugin(k_wrong_abi, ToolHost{});
        QVERIFY(!wrong.ok());
        QCOMPARE(wrong.error().context, "tool plugin " + k_wrong_abi);
        QCOMPARE(wrong.error().message, "built for tool plugin interface " + std::to_string(MATRIX_TOOL_PLUGIN_ABI + 1000) +
                                            ", this workbench has " + std::to_string(MATRIX_TOOL_PLUGIN_ABI) +
                                            ": rebuild it against this version's headers");
        // No such file.
        auto missing = load_tool_plugin("/no/such/plugin.so", ToolHost{});
        QCOMPARE(missing.error().to_string(), std::string("tool plugin /no/such/plugin.so: no such file"));
        // A library that is not a plugin.
        std::string libz;
        for (const char* p : {"/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1",
                              "/usr/lib/aarch64-linux-gnu/libz.so.1"})
            if (fs::exists(p)) libz = p;
        if (!libz.empty()) {
            auto notplugin = load_tool_plugin(libz, ToolHost{});
            QVERIFY(!notplugin.ok());
            QCOMPARE(notplugin.error().message,
                     std::string("not a MATRIX tool plugin (it does not export matrix_tool_plugin_abi; see plugins/README.md)"));
        }
        // A folder with a file that is not a library beside a good plugin: the good one still loads.
        const std::string folder = m_dir.filePath("mixed").toStdString();
        fs::create_directories(folder);
        std::ofstream(folder + "/broken.so") << "not an ELF file";
        fs::copy_file(k_example, folder + "/zz_word_count.so");
        ToolRegistry registry;
        PluginLoadReport report = add_tool_plugins(registry, ToolHost{}, {folder});
        QCOMPARE(report.entries.size(), size_t(2));
        QCOMPARE(report.errors().size(), size_t(1));
        QVERIFY(contains(report.errors().front(), folder + "/broken.so: cannot load the library: "));
        QCOMPARE(report.entries[1].tools, std::vector<std::string>{"word_count"});
        QCOMPARE(registry.tools().size(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestPluginLoader)
#include "test_plugin_loader.moc"
