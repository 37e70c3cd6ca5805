// What the opaque handles of gptq.h hold.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "eval/score.h"
#include "generate/generator.h"
#include "gptq.h"
#include "model/model.h"
#include "runtime/context.h"

struct gptq_model {
  explicit gptq_model(std::unique_ptr<gptq::Model> model)
      : impl(std::move(model)), device(impl->placement().summary()), placement(impl->placement().describe()) {}

  std::unique_ptr<gptq::Model> impl;
  // gptq_model_info's placement strings, which the model must own; it is
  // immutable, so they are made once.
  std::string device;
  std::string placement;
};

struct gptq_context {
  std::unique_ptr<gptq::Context> impl;
};

struct gptq_generation {
  gptq::GenerationResult result;
};

struct gptq_scores {
  std::vector<gptq::ContinuationScore> scores;
};

struct gptq_stream {
  std::unique_ptr<gptq::BatchGenerator> generator;
  std::vector<gptq::TokenEvent> pending;  // events of the last step not yet handed out
  size_t next_event = 0;
  gptq::TokenEvent current;               // owns the text the caller is reading
};

namespace gptq::api {

inline const Model& model_of(const gptq_model* model) {
  if (model == nullptr || !model->impl) fail(GPTQ_ERR_INVALID_ARGUMENT, "model is NULL");
  return *model->impl;
}

inline Context& context_of(gptq_context* context) {
  if (context == nullptr || !context->impl) fail(GPTQ_ERR_INVALID_ARGUMENT, "context is NULL");
  return *context->impl;
}

}  // namespace gptq::api
