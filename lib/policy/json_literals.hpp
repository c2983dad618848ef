// The numbers of a JSON text as they were written, so that a message can show 5e9 as 5e9 (a
// parsed document keeps only 5000000000.0).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace policy {

class Literals
{
public:
  // Record the text of each number of `text`, which `doc` was parsed from; of a key given twice
  // the last value counts, as in `doc`. `doc` must outlive this and stay unchanged.
  Literals(std::string_view text, const nlohmann::json& doc);

  // Return the text of `value`, a node of the document, as written; nothing if it is no number
  // of the document.
  const std::string* of(const nlohmann::json& value) const;

private:
  std::map<const nlohmann::json*, std::string> m_texts;
};

} // namespace policy
