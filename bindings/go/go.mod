module libgptq.dev/gptq

go 1.19
