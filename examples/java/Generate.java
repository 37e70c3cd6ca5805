import java.nio.file.Path;

import org.libgptq.Context;
import org.libgptq.GenerateParams;
import org.libgptq.Gptq;
import org.libgptq.Model;
import org.libgptq.Token;
import org.libgptq.TokenStream;

/** Loads a model and streams a greedy continuation: Generate MODEL_DIR [PROMPT] [MAX_NEW_TOKENS] */
public final class Generate {
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: Generate MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]");
            System.exit(2);
        }
        String prompt = args.length > 1 ? args[1] : "The history of the city";
        System.out.println(Gptq.systemInfo());
        try (Model model = Model.load(Path.of(args[0]));
             Context context = model.newContext();
             GenerateParams params = new GenerateParams()) {
            params.setMaxNewTokens(args.length > 2 ? Integer.parseInt(args[2]) : 32);
            System.out.print(prompt);
            try (TokenStream stream = context.stream(prompt, params)) {
                for (Token token : stream) {
                    System.out.print(token.text());
                    System.out.flush();
                }
            }
            System.out.println();
        }
    }
}
