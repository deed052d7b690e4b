"""Locust peer for benchmarks/bench.py: FastHttpUser posting the same non-streaming chat body."""

from locust import FastHttpUser, constant, task

BODY = b'{"model":"mock-model","messages":[{"role":"user","content":"Write a haiku about load testing."}],"max_tokens":16}'


class Chat(FastHttpUser):
    wait_time = constant(0)

    @task
    def chat(self) -> None:
        self.client.post(
            "/v1/chat/completions", data=BODY, headers={"Content-Type": "application/json"}
        )
