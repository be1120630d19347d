#include "app/cli/args.h"

#include <iostream>
#include <sstream>

#include "core/util/error_text.h"

namespace matrix::cli {

Args::Args(std::string usage, std::set<std::string> value_options, std::set<std::string> flag_options)
    : m_usage(std::move(usage)), m_value_options(std::move(value_options)), m_flag_options(std::move(flag_options)) {}

bool Args::parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << m_usage;
            m_help = true;
            return false;
        }
        if (a.size() > 2 && a.rfind("--", 0) == 0) {
            std::string key = a.substr(2), value;
            bool has_value = false;
            if (auto eq = key.find('='); eq != std::string::npos) {
                value = key.substr(eq + 1);
                key = key.substr(0, eq);
                has_value = true;
            }
            if (m_flag_options.count(key)) {
                m_values[key].push_back(has_value ? value : "1");
            } else if (m_value_options.count(key)) {
                if (!has_value) {
                    if (i + 1 >= argc) {
                        std::cerr << "matrix: option --" << key << " needs a value\n";
                        return false;
                    }
                    value = argv[++i];
                }
                m_values[key].push_back(value);
            } else {
                std::cerr << "matrix: unknown option --" << key << " (see --help)\n";
                return false;
            }
        } else {
            m_positionals.push_back(a);
        }
    }
    return true;
}

bool Args::has(const std::string& key) const { return m_values.count(key) > 0; }

std::optional<std::string> Args::get(const std::string& key) const {
    auto it = m_values.find(key);
    if (it == m_values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::string Args::get_or(const std::string& key, const std::string& fallback) const {
    auto v = get(key);
    return v ? *v : fallback;
}

std::vector<std::string> Args::get_all(const std::string& key) const {
    auto it = m_values.find(key);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

bool Args::require(const std::vector<std::string>& keys, const std::string& command) const {
    for (const auto& k : keys) {
        if (!has(k)) {
            std::cerr << "matrix " << command << ": missing --" << k << " (see --help)\n";
            return false;
        }
    }
    return true;
}

int fail(const std::string& message) {
    std::cerr << "matrix: " << one_line_error(message) << "\n";
    return 1;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace matrix::cli
