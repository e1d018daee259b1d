// Escapes: java.net.URLEncoder / URLDecoder (what Java Dubbo's URL.encode / URL.decode call) on
// each line of stdin, printing "<encoded>\t<decoded back>" per line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

public class Escapes {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String encoded = URLEncoder.encode(line, "UTF-8");
      System.out.println(encoded + "\t" + URLDecoder.decode(encoded, "UTF-8"));
    }
  }
}
