// The normalizers, pre-tokenizers and decoders of tokenizer.json are all
// steps that rewrite one kind of data in place, and each kind has a
// "Sequence" type that runs a list of them in order.
#pragma once

#include <memory>
#include <vector>

#include "tokenizer/json_node.h"

namespace gptq {

template <typename Data>
class PipelineStage {
 public:
  virtual ~PipelineStage() = default;
  virtual void apply(Data& data) const = 0;
};

template <typename Data>
class StageSequence final : public PipelineStage<Data> {
 public:
  using Factory = std::unique_ptr<PipelineStage<Data>> (*)(const JsonNode&);

  // The steps are listed under `key` ("normalizers", "pretokenizers", "decoders").
  StageSequence(const JsonNode& node, const char* key, Factory make) {
    for (const JsonNode& step : node.child(key).elements()) steps_.push_back(make(step));
  }
  void apply(Data& data) const override {
    for (const auto& step : steps_) step->apply(data);
  }

 private:
  std::vector<std::unique_ptr<PipelineStage<Data>>> steps_;
};

}  // namespace gptq
