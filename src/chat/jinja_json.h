// JSON documents (messages with tool calls, tool schemas) as template
// values. Ordered JSON, because a template's tojson writes keys in the order
// the document has them, as Python's dicts keep it.
#pragma once

#include <nlohmann/json.hpp>

#include "chat/jinja_value.h"

namespace gptq::jinja {

Value value_from_json(const nlohmann::ordered_json& json);

}  // namespace gptq::jinja
