// JSON documents (messages, tokenizer_config.json values) as template values.
#pragma once

#include <nlohmann/json.hpp>

#include "chat/jinja_value.h"

namespace gptq::jinja {

Value value_from_json(const nlohmann::json& json);

}  // namespace gptq::jinja
