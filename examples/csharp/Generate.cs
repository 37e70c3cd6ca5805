// Loads a model and streams a greedy continuation: Generate.exe MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]
using System;
using LibGptq;

static class Generate {
  static int Main(string[] args) {
    if (args.Length < 1) {
      Console.Error.WriteLine("usage: Generate.exe MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]");
      return 2;
    }
    string prompt = args.Length > 1 ? args[1] : "The history of the city";
    Console.WriteLine(Gptq.SystemInfo);
    using (Model model = Model.Load(args[0]))
    using (Context context = model.NewContext())
    using (var parameters = new GenerateParams { MaxNewTokens = args.Length > 2 ? int.Parse(args[2]) : 32 })
    using (TokenStream stream = context.Stream(prompt, parameters)) {
      Console.Write(prompt);
      foreach (Token token in stream) Console.Write(token.Text);
      Console.WriteLine();
    }
    return 0;
  }
}
