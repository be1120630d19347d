// A small argument parser shared by the subcommands: `--key value`, `--key=value`, repeatable keys,
// boolean flags and positionals. Unknown options are an error so typos do not pass silently.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace matrix::cli {

class Args {
public:
    // `usage` is printed for --help. `value_options` take a value; `flag_options` do not.
    Args(std::string usage, std::set<std::string> value_options, std::set<std::string> flag_options = {});

    // Returns false after printing one error line to stderr (or the usage for --help, with help_requested()).
    bool parse(int argc, char** argv, int first = 1);
    bool help_requested() const { return m_help; }

    bool has(const std::string& key) const;
    std::optional<std::string> get(const std::string& key) const;  // last value given
    std::string get_or(const std::string& key, const std::string& fallback) const;
    std::vector<std::string> get_all(const std::string& key) const;
    const std::vector<std::string>& positionals() const { return m_positionals; }

    // Prints "matrix <cmd>: missing --key" and returns false when a required option is absent.
    bool require(const std::vector<std::string>& keys, const std::string& command) const;
    const std::string& usage() const { return m_usage; }

private:
    std::string m_usage;
    std::set<std::string> m_value_options, m_flag_options;
    std::map<std::string, std::vector<std::string>> m_values;
    std::vector<std::string> m_positionals;
    bool m_help = false;
};

// "a,b,,c" -> {"a", "b", "c"} (list options such as --tools).
std::vector<std::string> split_list(const std::string& s);

// Exit code helper: prints "matrix: <message>" to stderr and returns 1.
int fail(const std::string& message);

}  // namespace matrix::cli
