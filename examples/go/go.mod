module libgptq.dev/gptq/examples/generate

go 1.19

require libgptq.dev/gptq v0.0.0

// The module as the CMake build assembles it (target gptq_go).
replace libgptq.dev/gptq => ../../build/bindings/go/module
