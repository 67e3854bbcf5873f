from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import issue_token


class Command(BaseCommand):
    help = "为用户签发一个接口令牌（只显示一次，库中只存其哈希）。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="接口调用", help="令牌用途")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在或已停用")
        self.stdout.write(issue_token(user=user, name=name))
