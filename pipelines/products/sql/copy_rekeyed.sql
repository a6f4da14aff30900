COPY rekeyed (id, features) FROM STDIN
