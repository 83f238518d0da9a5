"""plans and limits, terms of service and data-processing agreement, the three-day licence notice

Revision ID: 0025_plans
Revises: 0022_fk_indexes
Create Date: 2026-11-30 08:10:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0025_plans'
down_revision = '0027_rodo'
branch_labels = None
depends_on = None

NOW = dt.datetime(2026, 11, 30, 8, 0, 0)

#: code, name, monthly gross price (PLN), employees, mailing accounts, e-mails a month, storage MB, order
PLANS = (
    ("applarge", "AppLarge", "99.00", 10, 2, 10000, 5120, 10),
    ("applarge_plus", "AppLarge+", "199.00", 50, 10, 50000, 25600, 20),
)

TERMS_TITLE = "Regulamin świadczenia usługi Klientela CRM"
TERMS_BODY = """§ 1. Postanowienia ogólne
1. Regulamin określa zasady korzystania z aplikacji Klientela CRM (dalej: „Usługa”) udostępnianej drogą elektroniczną przez operatora platformy (dalej: „Usługodawca”).
2. Usługa jest przeznaczona dla przedsiębiorców. Konto zakłada osoba uprawniona do reprezentowania firmy (dalej: „Klient”); osoba ta zostaje Właścicielem konta.
3. Do korzystania z Usługi potrzebne są: urządzenie z dostępem do Internetu, aktualna przeglądarka internetowa i adres e-mail.

§ 2. Konto i licencja próbna
1. Każde nowo utworzone konto otrzymuje bezpłatną, 14-dniową licencję. Korzystanie z licencji próbnej nie zobowiązuje do wykupienia licencji płatnej.
2. W okresie licencji próbnej obowiązują limity pakietu AppLarge opisane w Cenniku.
3. Właściciel odpowiada za dodanych przez siebie pracowników, nadane im uprawnienia i poufność haseł.

§ 3. Abonament i płatności
1. Po okresie próbnym Usługa jest płatna w formie abonamentu miesięcznego według Cennika (pakiety AppLarge i AppLarge+), płatnego z góry za każdy miesiąc.
2. Nie zawieramy umów terminowych i nie ma okresu wypowiedzenia: Klient może w każdej chwili nie przedłużać abonamentu.
3. Płatności są przyjmowane online za pośrednictwem PayU (BLIK, szybki przelew, karta płatnicza). Za każdą płatność Usługodawca wystawia fakturę VAT.
4. Zmiana pakietu obowiązuje od następnego opłaconego okresu.

§ 4. Wygaśnięcie i blokada konta
1. Trzy dni przed końcem opłaconego okresu Właściciel otrzymuje przypomnienie e-mailem i w aplikacji.
2. Po upływie opłaconego okresu dostęp do konta jest automatycznie blokowany, a użytkownicy widzą informację o przyczynie blokady. Właściciel nadal może opłacić abonament, wyeksportować dane firmy i skontaktować się z pomocą techniczną.
3. Blokada nie powoduje usunięcia danych. Po opłaceniu abonamentu dostęp jest przywracany automatycznie.

§ 5. Dane i ich ochrona
1. Dane klientów wprowadzane przez Klienta do Usługi należą do Klienta. Klient jest ich administratorem, a Usługodawca przetwarza je wyłącznie w jego imieniu na podstawie umowy powierzenia przetwarzania danych osobowych, którą Klient akceptuje razem z Regulaminem.
2. Klient może w każdej chwili wyeksportować dane firmy i zamknąć konto. Dane zamkniętego konta są usuwane po 30 dniach, w których zamknięcie można cofnąć.
3. Usługodawca wykonuje kopie zapasowe danych i umożliwia odzyskanie danych usuniętych w ciągu ostatnich 30 dni na wniosek Właściciela.

§ 6. Zasady korzystania
1. Zabronione jest wprowadzanie treści bezprawnych oraz wysyłanie za pomocą Usługi niezamówionej informacji handlowej w rozumieniu przepisów prawa.
2. Usługodawca może zablokować konto naruszające ust. 1 po uprzednim wezwaniu Klienta do zaprzestania naruszeń, chyba że naruszenie wymaga natychmiastowej reakcji.

§ 7. Reklamacje i zgłoszenia
1. Reklamacje, zgłoszenia problemów i propozycje modyfikacji Klient składa w aplikacji („Zgłoś modyfikację lub problem”) lub e-mailem na adres pomocy technicznej.
2. Usługodawca odpowiada na reklamację w terminie 14 dni od jej otrzymania.

§ 8. Postanowienia końcowe
1. Usługodawca może zmienić Regulamin z ważnych przyczyn (zmiana przepisów, zmiana zakresu Usługi). Nowa wersja jest publikowana w aplikacji i musi zostać zaakceptowana przez Właściciela przy najbliższym logowaniu.
2. W sprawach nieuregulowanych stosuje się przepisy prawa polskiego, w szczególności Kodeksu cywilnego i ustawy o świadczeniu usług drogą elektroniczną."""

DPA_TITLE = "Umowa powierzenia przetwarzania danych osobowych"
DPA_BODY = """§ 1. Strony i przedmiot umowy
1. Umowa zostaje zawarta między Klientem, który założył konto w Klientela CRM (dalej: „Administrator”), a operatorem platformy (dalej: „Podmiot przetwarzający”) na podstawie art. 28 rozporządzenia Parlamentu Europejskiego i Rady (UE) 2016/679 (RODO).
2. Administrator powierza Podmiotowi przetwarzającemu przetwarzanie danych osobowych, które wprowadza do aplikacji, wyłącznie w celu świadczenia usługi Klientela CRM zgodnie z Regulaminem.

§ 2. Zakres przetwarzania
1. Kategorie osób: klienci i kontrahenci Administratora, osoby kontaktowe, odbiorcy wysyłek e-mailowych oraz pracownicy Administratora korzystający z aplikacji.
2. Rodzaje danych: imię i nazwisko, stanowisko, nazwa i dane firmy, adres, adres e-mail, numer telefonu, treść notatek, zadań, ofert, zleceń, faktur i korespondencji oraz pliki dodane przez Administratora.
3. Charakter operacji: przechowywanie, porządkowanie, wyszukiwanie, przeglądanie, wysyłanie wiadomości na polecenie Administratora, tworzenie kopii zapasowych i usuwanie.
4. Czas przetwarzania: okres korzystania z usługi, a po zamknięciu konta do czasu usunięcia danych (30 dni) oraz usunięcia ich z kopii zapasowych.

§ 3. Obowiązki Podmiotu przetwarzającego
1. Podmiot przetwarzający przetwarza dane wyłącznie na udokumentowane polecenie Administratora; poleceniem jest w szczególności korzystanie z funkcji aplikacji.
2. Dopuszcza do danych wyłącznie osoby upoważnione, zobowiązane do zachowania tajemnicy.
3. Stosuje środki techniczne i organizacyjne, o których mowa w art. 32 RODO: szyfrowane połączenia, oddzielenie danych poszczególnych klientów, kontrola dostępu, dziennik zdarzeń bezpieczeństwa, kopie zapasowe, szyfrowanie haseł do kont pocztowych.
4. Pomaga Administratorowi w realizacji praw osób, których dane dotyczą (dostęp, sprostowanie, usunięcie, przenoszenie danych), między innymi udostępniając w aplikacji eksport i anonimizację danych osoby.
5. Zawiadamia Administratora o naruszeniu ochrony danych osobowych bez zbędnej zwłoki, nie później niż w ciągu 36 godzin od jego stwierdzenia.
6. Udostępnia Administratorowi informacje niezbędne do wykazania spełnienia obowiązków z art. 28 RODO i umożliwia audyt po uprzednim uzgodnieniu terminu.

§ 4. Dalsze powierzenie
1. Administrator wyraża ogólną zgodę na korzystanie przez Podmiot przetwarzający z dalszych podmiotów przetwarzających (hosting, poczta elektroniczna, operator płatności) mających siedzibę w Europejskim Obszarze Gospodarczym.
2. O zamiarze zmiany dalszego podmiotu przetwarzającego Podmiot przetwarzający informuje Administratora z wyprzedzeniem; Administrator może wyrazić sprzeciw, zamykając konto.

§ 5. Obowiązki Administratora
1. Administrator odpowiada za zgodność z prawem wprowadzanych danych, w tym za posiadanie podstawy prawnej ich przetwarzania i spełnienie obowiązku informacyjnego.

§ 6. Zakończenie umowy
1. Umowa obowiązuje przez czas korzystania z usługi. Po zamknięciu konta Podmiot przetwarzający usuwa powierzone dane po upływie 30 dni, chyba że przepis prawa nakazuje ich dalsze przechowywanie; przed zamknięciem Administrator może wyeksportować wszystkie dane.
2. Zmiana umowy następuje przez opublikowanie nowej wersji w aplikacji i jej akceptację przez Właściciela konta."""


def upgrade():
    op.create_table('plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('price_gross', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('max_employees', sa.Integer(), nullable=False),
    sa.Column('max_mailboxes', sa.Integer(), nullable=False),
    sa.Column('max_emails_month', sa.Integer(), nullable=False),
    sa.Column('max_storage_mb', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    plan = sa.table('plan', sa.column('code'), sa.column('name'), sa.column('price_gross'),
                    sa.column('max_employees'), sa.column('max_mailboxes'), sa.column('max_emails_month'),
                    sa.column('max_storage_mb'), sa.column('active'), sa.column('sort_order'),
                    sa.column('created_at'), sa.column('updated_at'))
    op.bulk_insert(plan, [
        {"code": code, "name": name, "price_gross": price, "max_employees": employees,
         "max_mailboxes": mailboxes, "max_emails_month": emails, "max_storage_mb": storage,
         "active": True, "sort_order": order, "created_at": NOW, "updated_at": NOW}
        for code, name, price, employees, mailboxes, emails, storage, order in PLANS
    ])

    live = sa.text("deleted_at IS NULL")
    op.create_index('ix_attachment_company_size', 'attachment', ['company_id', 'size'], unique=False,
                    sqlite_where=live, postgresql_where=live)

    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_plan', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('licence_notice_for', sa.Date(), nullable=True))

    op.create_table('legal_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'version', name='uq_legal_document_kind_version')
    )
    where = sa.text("created_by_id IS NOT NULL")
    op.create_index('ix_fk_legal_document_created_by_id', 'legal_document', ['created_by_id'], unique=False,
                    sqlite_where=where, postgresql_where=where)
    doc = sa.table('legal_document', sa.column('kind'), sa.column('version'), sa.column('title'),
                   sa.column('body'), sa.column('created_at'), sa.column('published_at'))
    op.bulk_insert(doc, [
        {"kind": "terms", "version": 1, "title": TERMS_TITLE, "body": TERMS_BODY, "created_at": NOW, "published_at": NOW},
        {"kind": "dpa", "version": 1, "title": DPA_TITLE, "body": DPA_BODY, "created_at": NOW, "published_at": NOW},
    ])

    op.create_table('terms_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['legal_document.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('terms_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_acceptance_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_terms_acceptance_company_document', ['company_id', 'document_id'], unique=False)
    op.create_index('ix_fk_terms_acceptance_document_id', 'terms_acceptance', ['document_id'], unique=False)
    where = sa.text("user_id IS NOT NULL")
    op.create_index('ix_fk_terms_acceptance_user_id', 'terms_acceptance', ['user_id'], unique=False,
                    sqlite_where=where, postgresql_where=where)


def downgrade():
    op.drop_index('ix_fk_terms_acceptance_user_id', table_name='terms_acceptance')
    op.drop_index('ix_fk_terms_acceptance_document_id', table_name='terms_acceptance')
    with op.batch_alter_table('terms_acceptance', schema=None) as batch_op:
        batch_op.drop_index('ix_terms_acceptance_company_document')
        batch_op.drop_index(batch_op.f('ix_terms_acceptance_company_id'))
    op.drop_table('terms_acceptance')
    op.drop_index('ix_fk_legal_document_created_by_id', table_name='legal_document')
    op.drop_table('legal_document')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('licence_notice_for')
        batch_op.drop_column('next_plan')
    op.drop_index('ix_attachment_company_size', table_name='attachment')
    op.drop_table('plan')
