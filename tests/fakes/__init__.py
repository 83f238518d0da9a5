"""Local fakes of internet services, speaking their real protocols over HTTP on 127.0.0.1."""
