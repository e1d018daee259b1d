// escapes: Go's url.QueryEscape / QueryUnescape (what dubbo-go's registry calls) on each line of
// stdin, printing "<encoded>\t<decoded back>" per line.
package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		encoded := url.QueryEscape(in.Text())
		decoded, err := url.QueryUnescape(encoded)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s\t%s\n", encoded, decoded)
	}
}
