// Command generate loads a model and streams a greedy continuation:
//
//	gptq-generate MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]
package main

import (
	"fmt"
	"os"
	"strconv"

	"libgptq.dev/gptq"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gptq-generate MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]")
		os.Exit(2)
	}
	prompt := "The history of the city"
	if len(os.Args) > 2 {
		prompt = os.Args[2]
	}
	opts := gptq.DefaultGenerateOptions()
	opts.MaxNewTokens = 32
	if len(os.Args) > 3 {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "MAX_NEW_TOKENS:", err)
			os.Exit(2)
		}
		opts.MaxNewTokens = n
	}
	if err := run(os.Args[1], prompt, &opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir, prompt string, opts *gptq.GenerateOptions) error {
	fmt.Println(gptq.SystemInfo())
	model, err := gptq.LoadModel(dir, nil)
	if err != nil {
		return err
	}
	defer model.Close()
	context, err := model.NewContext(nil)
	if err != nil {
		return err
	}
	defer context.Close()
	stream, err := context.Stream(prompt, opts)
	if err != nil {
		return err
	}
	defer stream.Close()
	fmt.Print(prompt)
	for stream.Next() {
		fmt.Print(stream.Token().Text)
	}
	fmt.Println()
	return stream.Err()
}
