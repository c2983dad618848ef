#include "policy/json_literals.hpp"

#include <vector>

namespace policy {

namespace {

using nlohmann::json;

// Return the number tokens of valid JSON `text` in order. Outside strings a digit or '-' can
// only start a number.
std::vector<std::string_view> number_tokens(std::string_view text)
{
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') {
          ++i;  // the escaped character
        }
      }
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const auto end = text.find_first_not_of("0123456789+-.eE", i);
      const size_t stop = end == std::string_view::npos ? text.size() : end;
      out.push_back(text.substr(i, stop - i));
      i = stop;
    } else {
      ++i;
    }
  }
  return out;
}

// Follows the parser's events through the parsed document: each number event is matched with
// the next number token and with the node it became (none if a later duplicate key replaced it).
class Follower final : public nlohmann::json_sax<json>
{
public:
  Follower(const json& doc, std::vector<std::string_view> tokens,
           std::map<const json*, std::string>& out)
    : m_doc(doc), m_tokens(std::move(tokens)), m_out(out)
  {
  }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return number(); }
  bool number_unsigned(number_unsigned_t) override { return number(); }
  bool number_float(number_float_t, const string_t&) override { return number(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(json::value_t::object); }
  bool start_array(std::size_t) override { return open(json::value_t::array); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override
  {
    auto& f = m_stack.back();
    const auto it = f.node ? f.node->find(name) : json::const_iterator();
    f.member = f.node && it != f.node->end() ? &*it : nullptr;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override
  {
    return false;
  }

private:
  struct Frame
  {
    const json* node = nullptr;  // the container in the document, if it is one of this type
    size_t index = 0;            // of the next element of an array
    const json* member = nullptr;  // of the last key of an object
  };

  // Return the node of the value that comes now, if the document has it.
  const json* next_node()
  {
    if (m_stack.empty()) {
      return &m_doc;
    }
    auto& f = m_stack.back();
    if (!f.node) {
      return nullptr;
    }
    if (f.node->is_array()) {
      const size_t i = f.index++;
      return i < f.node->size() ? &(*f.node)[i] : nullptr;
    }
    return f.member;
  }

  bool value()
  {
    next_node();
    return true;
  }

  bool number()
  {
    const json* node = next_node();
    if (m_next < m_tokens.size()) {
      const auto token = m_tokens[m_next++];
      if (node && node->is_number()) {
        m_out[node] = std::string(token);
      }
    }
    return true;
  }

  bool open(json::value_t type)
  {
    const json* node = next_node();
    m_stack.push_back(Frame{node && node->type() == type ? node : nullptr, 0, nullptr});
    return true;
  }

  bool close()
  {
    m_stack.pop_back();
    return true;
  }

  const json& m_doc;
  std::vector<std::string_view> m_tokens;
  size_t m_next = 0;
  std::vector<Frame> m_stack;
  std::map<const json*, std::string>& m_out;
};

} // namespace

Literals::Literals(std::string_view text, const nlohmann::json& doc)
{
  Follower follower(doc, number_tokens(text), m_texts);
  json::sax_parse(text.begin(), text.end(), &follower);
}

const std::string* Literals::of(const nlohmann::json& value) const
{
  const auto it = m_texts.find(&value);
  return it == m_texts.end() ? nullptr : &it->second;
}

} // namespace policy
